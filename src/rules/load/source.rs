//! A rule file's text, read with a size limit, and its line index.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::catalogue::limits::MAX_FILE_BYTES;

/// A rule file's text and where it came from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub name: String,
    /// Read on first need for a file whose cache entry its stamp proves
    /// (see [`RuleSource::read_unless_proven`]): such a file's rules come
    /// from the cache, and only a problem between files shows its text.
    /// With whether it was read under `stamp` (false only for a file that
    /// changed after its stamp was taken).
    text: OnceLock<(Arc<String>, bool)>,
    pub builtin: bool,
    /// Discovery layer (built-in 0, then the user's config dir, a project's
    /// `.faultline/rules`, `FAULTLINE_RULES`, `--rules`): a rule replaces one
    /// with the same id from a lower layer; within a layer, a duplicate id
    /// is a problem.
    pub layer: u8,
    /// The file's real size when it exceeds [`MAX_FILE_BYTES`]; `text` then
    /// holds its first part only (to point at), and none of it is loaded.
    pub oversize: Option<u64>,
    /// The file's stamp taken before its text was read; `None` for text
    /// that was not read from a file.
    pub stamp: Option<FileStamp>,
}

/// What tells one version of a file from another without reading it (as
/// git's index does): size, modification and change times, inode and
/// device. A rewrite changes the times, a replacement the inode; the change
/// time cannot be set back. Nanoseconds since the epoch, in an `i64` (until
/// 2262): an `i128` aligned every rule (which holds its file's stamp) to 16
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    pub size: u64,
    pub modified: i64,
    pub changed: i64,
    pub inode: u64,
    pub device: u64,
}

impl FileStamp {
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        let nanos = |secs: i64, nsec: i64| secs.saturating_mul(1_000_000_000).saturating_add(nsec);
        FileStamp {
            size: meta.len(),
            modified: nanos(meta.mtime(), meta.mtime_nsec()),
            changed: nanos(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }

    /// Without a change time or inode, the stamp says less: the cache
    /// then compares the text (see `Cache`'s racy stamps).
    #[cfg(not(unix))]
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        FileStamp {
            size: meta.len(),
            modified,
            changed: modified,
            inode: 0,
            device: 0,
        }
    }
}

/// A stamp this close to now is racy: wider than the coarsest file
/// timestamps (FAT's two seconds) and the lag of the kernel's coarse clock,
/// which file times are taken from.
const RACY_NANOS: i64 = 3_000_000_000;

impl FileStamp {
    /// Whether a file with this stamp may still change without changing it
    /// (git's racy timestamps): a change within the same timestamp tick
    /// keeps the stamp. Without a change time and inode (not unix) a stamp
    /// proves nothing alone: always racy, so the text is compared.
    pub fn is_racy(&self) -> bool {
        if !cfg!(unix) {
            return true;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(i64::MAX, |d| {
                i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
            });
        self.modified.max(self.changed) > now.saturating_sub(RACY_NANOS)
    }
}

impl RuleSource {
    /// A source from text in memory.
    pub fn new(name: impl Into<String>, text: impl Into<String>, builtin: bool) -> Self {
        Self::with_text(name.into(), Arc::new(text.into()), builtin, None)
    }

    /// A source from text already read, with the stamp of the file it was
    /// read from, if any.
    pub fn with_text(
        name: String,
        text: Arc<String>,
        builtin: bool,
        stamp: Option<FileStamp>,
    ) -> Self {
        RuleSource {
            name,
            text: OnceLock::from((text, true)),
            builtin,
            layer: if builtin { 0 } else { 1 },
            oversize: None,
            stamp,
        }
    }

    /// The file's text (read now if it was left unread).
    pub fn text(&self) -> &Arc<String> {
        &self.text.get_or_init(|| self.read_late()).0
    }

    /// The text of a file left unread because its stamp proved a cache
    /// entry, and whether the file still has that stamp. A file changed
    /// since (within this run) gives its new text, which no cache entry is
    /// made from (see [`RuleSource::read_at_stamp`]); one gone or no longer
    /// text gives none.
    fn read_late(&self) -> (Arc<String>, bool) {
        let read = || -> Option<(String, bool)> {
            let file = std::fs::File::open(&self.name).ok()?;
            let stamp = file.metadata().ok().map(|m| FileStamp::of(&m));
            let mut bytes = Vec::with_capacity(self.text_len() + 1);
            file.take(MAX_FILE_BYTES as u64)
                .read_to_end(&mut bytes)
                .ok()?;
            let text = String::from_utf8(bytes).ok()?;
            let same = stamp.is_some() && stamp == self.stamp && text.len() == self.text_len();
            Some((text, same))
        };
        let (text, same) = read().unwrap_or_default();
        (Arc::new(text), same)
    }

    /// The text's length, known without reading it.
    pub fn text_len(&self) -> usize {
        match (self.text.get(), self.stamp) {
            (Some((text, _)), _) => text.len(),
            (None, Some(stamp)) => stamp.size as usize,
            (None, None) => 0,
        }
    }

    /// Whether the text is in memory.
    pub fn is_read(&self) -> bool {
        self.text.get().is_some()
    }

    /// Whether the text (if read) is the one `stamp` was taken for: only
    /// then may a cache entry be made from it.
    pub fn read_at_stamp(&self) -> bool {
        self.text.get().is_none_or(|(_, same)| *same)
    }

    /// Reads a rule file, at most [`MAX_FILE_BYTES`] of it (a huge file is
    /// a problem to report, not something to hold in memory).
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Self::read_unless_proven(path, |_, _| false)
    }

    /// [`RuleSource::read`], but a file whose stamp `proven` accepts (the
    /// rule cache holds an entry made from this very file) is not read:
    /// its text is read only if something asks for it.
    pub fn read_unless_proven(
        path: &Path,
        proven: impl FnOnce(&str, &FileStamp) -> bool,
    ) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        // Before reading: a change made while reading shows in the stamp.
        let stamp = file.metadata().ok().map(|m| FileStamp::of(&m));
        let name = path.to_string_lossy().into_owned();
        if let Some(stamp) = stamp
            && stamp.size <= MAX_FILE_BYTES as u64
            && proven(&name, &stamp)
        {
            return Ok(RuleSource {
                name,
                text: OnceLock::new(),
                builtin: false,
                layer: 1,
                oversize: None,
                stamp: Some(stamp),
            });
        }
        // Sized up front: grown by doubling, a rules directory's text was
        // copied over again (a tenth of a start-up with thousands of rules).
        let size = stamp.map_or(0, |s| s.size);
        let mut bytes = Vec::with_capacity(size.min(MAX_FILE_BYTES as u64 + 1) as usize + 1);
        file.take(MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
        let mut oversize = None;
        if bytes.len() > MAX_FILE_BYTES {
            oversize = Some(
                std::fs::metadata(path)
                    .map(|m| m.len())
                    .unwrap_or(bytes.len() as u64),
            );
            // Keep whole lines, and whole characters.
            bytes.truncate(MAX_FILE_BYTES);
            let cut = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            bytes.truncate(cut);
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))?;
        Ok(RuleSource {
            name,
            text: OnceLock::from((Arc::new(text), true)),
            builtin: false,
            layer: 1,
            oversize,
            stamp,
        })
    }
}

/// Byte offset → 1-based line, in O(log n): a file of thousands of rules
/// asks for a line per rule.
pub struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        LineIndex {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    pub fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(tag: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "faultline-source-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("acme.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_proven_file_is_read_only_when_asked_for() {
        let path = temp_file("proven", "[[rule]]\nid = \"acme.x\"\n");
        let read = RuleSource::read(&path).unwrap();
        assert!(read.is_read());
        let proven = RuleSource::read_unless_proven(&path, |_, _| true).unwrap();
        assert!(!proven.is_read(), "left unread");
        assert_eq!(proven.stamp, read.stamp);
        assert_eq!(proven.text_len(), read.text().len());
        assert_eq!(proven.text(), read.text(), "read when asked for");
        assert!(proven.read_at_stamp());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_proven_file_changed_before_it_is_read_is_not_taken_for_it() {
        let path = temp_file("changed", "[[rule]]\nid = \"acme.x\"\n");
        let proven = RuleSource::read_unless_proven(&path, |_, _| true).unwrap();
        std::fs::write(&path, "[[rule]]\nid = \"acme.longer-id\"\n").unwrap();
        // Its new text, which no cache entry may be made from.
        assert!(proven.text().contains("acme.longer-id"));
        assert!(!proven.read_at_stamp());
        // Gone: no text, and no panic.
        let gone = RuleSource::read_unless_proven(&path, |_, _| true).unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        assert_eq!(gone.text().as_str(), "");
        assert!(!gone.read_at_stamp());
        // A problem pointing past the text it has goes without its place.
        let problem =
            super::super::RuleProblem::at(&gone, "rule::duplicate-id", 10..20, "m", "l", None);
        assert!(problem.span.is_none() && problem.source_code.is_none());
    }
}
