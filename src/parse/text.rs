//! [`Text`], the text of a [`super::Value`]: owned, or a piece of a text
//! that several values share (a JSON record's line, whose members are most
//! of its fields): one allocation a record, where a `String` per member
//! was most of what a record cost to read and to drop.

use std::borrow::Cow;
use std::sync::Arc;

#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Owned(String),
    /// `shared[start..end]`, on character boundaries.
    Shared {
        shared: Arc<str>,
        start: u32,
        end: u32,
    },
}

impl Text {
    /// `shared[range]`, when the range is on character boundaries (an
    /// owned copy of what it can be when the offsets are past `u32`).
    #[inline]
    pub fn shared(shared: &Arc<str>, range: std::ops::Range<usize>) -> Self {
        debug_assert!(shared.get(range.clone()).is_some());
        match (u32::try_from(range.start), u32::try_from(range.end)) {
            (Ok(start), Ok(end)) => Text(Repr::Shared {
                shared: Arc::clone(shared),
                start,
                end,
            }),
            _ => Text(Repr::Owned(shared[range].to_string())),
        }
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(s) => s,
            Repr::Shared { shared, start, end } => &shared[*start as usize..*end as usize],
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Repr::Owned(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Repr::Owned(s.to_string()))
    }
}

/// Moved out when owned; a shared piece is copied.
impl From<Text> for String {
    fn from(t: Text) -> Self {
        match t.0 {
            Repr::Owned(s) => s,
            shared @ Repr::Shared { .. } => Text(shared).as_str().to_string(),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// As a `String` shows: tests and debug output do not tell the two apart.
impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One text whose pieces become [`Text`]s without a copy each: it is
/// copied once, into an `Arc`, that its pieces share.
pub struct SharedText<'a> {
    shared: Arc<str>,
    /// What `shared` is a copy of: a piece is found by its address in it.
    source: &'a str,
}

impl<'a> SharedText<'a> {
    pub fn of(source: &'a str) -> Self {
        SharedText {
            shared: Arc::from(source),
            source,
        }
    }

    /// `piece` as a text: shared when it is a piece of the source, else
    /// copied.
    #[inline]
    pub fn text(&self, piece: &str) -> Text {
        let start = (piece.as_ptr() as usize).wrapping_sub(self.source.as_ptr() as usize);
        if start <= self.source.len() && piece.len() <= self.source.len() - start {
            Text::shared(&self.shared, start..start + piece.len())
        } else {
            Text::from(piece)
        }
    }

    /// As [`SharedText::text`]; an owned string is moved, not copied.
    pub fn cow(&self, text: Cow<'_, str>) -> Text {
        match text {
            Cow::Borrowed(piece) => self.text(piece),
            Cow::Owned(s) => s.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_owned_read_alike() {
        let line: Arc<str> = Arc::from(r#"{"msg":"héllo"}"#);
        let shared = Text::shared(&line, 8..14);
        let owned = Text::from("héllo");
        assert_eq!(shared, owned);
        assert_eq!(shared.as_str(), "héllo");
        assert_eq!(format!("{shared:?}"), format!("{:?}", "héllo"));
        assert_eq!(String::from(shared), "héllo");
        assert_eq!(String::from(owned), "héllo");
        let source = r#"{"msg":"héllo","n":1}"#;
        let texts = SharedText::of(source);
        for piece in [&source[8..14], source, &source[source.len()..], "elsewhere"] {
            assert_eq!(texts.text(piece).as_str(), piece);
        }
    }
}
