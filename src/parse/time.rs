//! Timestamps as logs write them, parsed with jiff: ISO 8601 / RFC 3339
//! (`2026-11-24T21:08:22.123Z`, `2026-11-24 21:08:22,123`, with or without
//! an offset), HTTP dates (`Tue, 24 Nov 2026 21:08:22 GMT`, RFC 2822), the
//! common log format (`24/Nov/2026:21:08:22 +0000`) and Unix epochs in
//! seconds or milliseconds. A time without an offset is read as UTC.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::lean::Regex;
use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

fn iso_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?(?P<off>\s?(?:Z|[+-][0-9]{2}:?[0-9]{2})\b|Z)?",
        )
        .expect("iso regex")
    })
}

/// Builds the ISO timestamp's regex now (see [`super::warm_up`]): a log's
/// incidents read the time of their lines with it.
pub(super) fn warm_up() {
    iso_re();
}

fn clf_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\b")
            .expect("clf regex")
    })
}

fn http_date_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} (?:GMT|UT|UTC|[+-][0-9]{4})\b")
            .expect("http date regex")
    })
}

fn from_iso(c: &super::lean::Captures) -> Option<Timestamp> {
    let frac = c
        .name("frac")
        .map_or(String::new(), |f| format!(".{}", f.as_str()));
    let civil: civil::DateTime = format!("{}T{}{frac}", &c["date"], &c["time"])
        .parse()
        .ok()?;
    match c.name("off").map(|o| o.as_str().trim()) {
        None | Some("Z") => civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp()),
        Some(off) => {
            let off = if off.len() == 5 {
                format!("{}:{}", &off[..3], &off[3..])
            } else {
                off.to_string()
            };
            format!("{}T{}{frac}{off}", &c["date"], &c["time"])
                .parse()
                .ok()
        }
    }
}

fn from_clf(s: &str) -> Option<Timestamp> {
    jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", s)
        .ok()?
        .to_timestamp()
        .ok()
}

fn from_http_date(s: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::parse(s).ok().map(|z| z.timestamp())
}

/// A whole value that is a timestamp (a JSON record's `ts`, HAR's
/// `startedDateTime`, a `Date` header), or an epoch in seconds or ms.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return from_epoch(n);
    }
    // Every form has a `:` in its time; each regex compiles only when its
    // own separator is present too, so a value that is no time costs none.
    if !s.contains(':') {
        return None;
    }
    if let Some(civil) = utc_iso_civil(s) {
        return civil
            .parse::<civil::DateTime>()
            .ok()?
            .to_zoned(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    if s.contains('-')
        && let Some(c) = iso_re()
            .captures(s)
            .filter(|c| c.get(0).is_some_and(|m| m.start() == 0))
    {
        return from_iso(&c);
    }
    if s.contains(", ")
        && let Some(m) = http_date_re().find(s)
    {
        return from_http_date(m.as_str());
    }
    if !s.contains('/') {
        return None;
    }
    clf_re().find(s).and_then(|m| from_clf(m.as_str()))
}

/// The date and time of `s` when it is exactly `YYYY-MM-DDTHH:MM:SS`, an
/// optional `.` and 1–9 digits, and `Z`: the form JSON logs write in every
/// record, read without the regex (its captures took half the time of a
/// record's timestamp). The text returned is the one [`from_iso`] rebuilds
/// from the regex's captures for such an `s`, so jiff reads the same.
fn utc_iso_civil(s: &str) -> Option<&str> {
    let civil = s.strip_suffix('Z')?;
    let (head, frac) = civil.as_bytes().split_first_chunk::<19>()?;
    // A byte XOR its shape's byte: 0 where they are equal, at most 9 for
    // a digit where the shape has `0`. Tested for all bytes at once (no
    // early exit): a test per byte took 190 instructions a record.
    const SHAPE: &[u8; 19] = b"0000-00-00T00:00:00";
    const MAX_XOR: [u8; 19] = [9, 9, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9];
    let head_fits = (0..19).fold(true, |fits, i| fits & (head[i] ^ SHAPE[i] <= MAX_XOR[i]));
    let frac_fits = match frac {
        [] => true,
        [b'.', digits @ ..] => {
            (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    (head_fits && frac_fits).then_some(civil)
}

/// Seconds (or milliseconds, above 10^11) since the Unix epoch, within
/// 2001–2286 so that ordinary numbers are not taken for times.
pub fn from_epoch(n: f64) -> Option<Timestamp> {
    let secs = if n > 1e11 { n / 1000.0 } else { n };
    if !(1e9..1e10).contains(&secs) {
        return None;
    }
    Timestamp::from_millisecond((secs * 1000.0).round() as i64).ok()
}

/// A timestamp near the start of a log line (within its first 64 bytes):
/// the time and its byte range in `line`.
pub fn leading_timestamp(line: &str) -> Option<(Timestamp, usize, usize)> {
    let head = &line[..line.floor_char_boundary(64.min(line.len()))];
    // Literal checks first, as in `parse_timestamp`.
    if !head.contains(':') {
        return None;
    }
    if head.contains('-')
        && let Some(c) = iso_re().captures(head)
    {
        let m = c.get(0)?;
        // Take the full match from the whole line (the head may cut it).
        let c = iso_re().captures_at(line, m.start())?;
        let m = c.get(0)?;
        return from_iso(&c).map(|t| (t, m.start(), m.end()));
    }
    if head.contains('/')
        && let Some(m) = clf_re().find(head)
    {
        return from_clf(m.as_str()).map(|t| (t, m.start(), m.end()));
    }
    None
}

/// `2026-11-24T21:08:22Z`
pub fn format(ts: Timestamp) -> String {
    ts.to_string()
}

/// [`parse_timestamp`] then [`format`]: a value's time as reports write it;
/// `s` itself when it is written so (most records' times are).
pub fn normalized(s: &str) -> Option<Cow<'_, str>> {
    match as_formatted(s) {
        Some(head) if s.len() == head.len() + 1 => Some(Cow::Borrowed(s)),
        Some(head) => {
            let mut time = String::with_capacity(head.len() + 1);
            time.push_str(head);
            time.push('Z');
            Some(Cow::Owned(time))
        }
        None => parse_timestamp(s).map(format).map(Cow::Owned),
    }
}

/// What [`format`] would write for `s`, but its closing `Z`, when that is
/// `s` less the fraction's trailing zeros (and its `.` when all are):
/// the form of [`utc_iso_civil`] with a valid date and time and no leap
/// second, in a year whose every instant jiff's timestamps hold. JSON logs
/// write each record's time so, a tenth of them with a trailing zero in
/// the milliseconds; reading it with jiff and writing it again took 1,900
/// instructions a record.
fn as_formatted(s: &str) -> Option<&str> {
    let civil = utc_iso_civil(s)?;
    let b = s.as_bytes();
    let number = |at: usize, len: usize| {
        b[at..at + len]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    let valid = (1000..=9998).contains(&year)
        && (1..=days).contains(&day)
        && number(11, 2) < 24
        && number(14, 2) < 60
        && number(17, 2) < 60;
    // jiff writes the fraction with no trailing zero, and none at all for
    // a whole second.
    let head = civil.trim_end_matches('0');
    let head = match head.len() {
        ..20 => &civil[..19],
        _ => head.strip_suffix('.').unwrap_or(head),
    };
    valid.then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut reads the form it takes as the regex does, valid or
    /// not (a 13th month, a leap second), and leaves every other form to it.
    #[test]
    fn utc_iso_reads_as_the_regex_does() {
        let by_regex = |s: &str| {
            iso_re()
                .captures(s)
                .filter(|c| c.get(0).is_some_and(|m| m.start() == 0))
                .and_then(|c| from_iso(&c))
        };
        let taken = [
            "2026-11-24T21:08:22Z",
            "2026-11-24T21:08:22.1Z",
            "2026-11-24T21:08:22.123Z",
            "2026-11-24T21:08:22.123456789Z",
            "2026-13-24T21:08:22Z",
            "2026-02-30T21:08:22.5Z",
            "2016-12-31T23:59:60Z",
            "2026-11-24T24:00:00Z",
            "0000-01-01T00:00:00Z",
        ];
        for s in taken {
            assert!(utc_iso_civil(s).is_some(), "{s}");
            assert_eq!(parse_timestamp(s), by_regex(s), "{s}");
        }
        let left = [
            "2026-11-24T21:08:22.Z",
            "2026-11-24T21:08:22.1234567890Z",
            "2026-11-24 21:08:22Z",
            "2026-11-24T21:08:22,123Z",
            "2026-11-24T21:08:22z",
            "2026-11-24T21:08:22+00:00",
            "2026-11-24T21:08Z",
            "２026-11-24T21:08:22Z",
            "2026-11-24T21:08:2:Z",
            "2026/11-24T21:08:22Z",
            "2026-11-24T21:08:2/Z",
            "2026-11-24t21:08:22Z",
            "2026-11-24T21-08:22Z",
        ];
        for s in left {
            assert!(utc_iso_civil(s).is_none(), "{s}");
        }
    }

    /// The shortcut gives what jiff's reading and writing give, on every
    /// form it takes and on those it leaves.
    #[test]
    fn as_formatted_is_what_jiff_writes() {
        let mut cases = vec![];
        for date in [
            "2026-11-24",
            "2024-02-29",
            "2026-02-29",
            "2000-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-04-30",
            "2026-00-10",
            "2026-12-31",
            "2026-01-00",
            "9999-12-31",
            "9998-12-31",
            "1000-01-01",
            "0999-12-31",
            "0000-01-01",
        ] {
            for time in ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60"] {
                for frac in [
                    "",
                    ".0",
                    ".5",
                    ".50",
                    ".008",
                    ".123456789",
                    ".000000000",
                    ".1",
                    ".120",
                    ".100000000",
                    ".000000010",
                    ".00",
                ] {
                    cases.push(format!("{date}T{time}{frac}Z"));
                }
            }
        }
        let mut taken = 0;
        for s in &cases {
            let by_jiff = parse_timestamp(s).map(format);
            assert_eq!(normalized(s).map(Cow::into_owned), by_jiff, "{s}");
            if let Some(head) = as_formatted(s) {
                assert_eq!(Some(format!("{head}Z")), by_jiff, "{s}");
                taken += 1;
            }
        }
        assert!(taken > cases.len() / 6, "{taken} of {}", cases.len());
        assert_eq!(as_formatted(" 2026-11-24T21:08:22Z"), None);
    }

    #[test]
    fn formats() {
        let want = "2026-11-24T21:08:22Z";
        for s in [
            "2026-11-24T21:08:22Z",
            "2026-11-24 21:08:22",
            "2026-11-24T22:08:22+01:00",
            "2026-11-24T22:08:22+0100",
            "Tue, 24 Nov 2026 21:08:22 GMT",
            "24/Nov/2026:21:08:22 +0000",
            "1795554502",
            "1795554502000",
        ] {
            assert_eq!(parse_timestamp(s).map(format).as_deref(), Some(want), "{s}");
        }
        assert_eq!(
            parse_timestamp("2026-11-24 21:08:22,123")
                .map(format)
                .as_deref(),
            Some("2026-11-24T21:08:22.123Z")
        );
        assert!(parse_timestamp("403").is_none());
    }

    #[test]
    fn leading() {
        let (t, s, e) = leading_timestamp("2026-11-24 21:08:22,123 ERROR etl: boom").unwrap();
        assert_eq!(
            (format(t).as_str(), s, e),
            ("2026-11-24T21:08:22.123Z", 0, 23)
        );
        assert!(leading_timestamp("INFO:genesys_etl:requesting token").is_none());
        let (t, _, _) =
            leading_timestamp("127.0.0.1 - - [24/Nov/2026:21:08:22 +0000] \"POST /x\" 401")
                .unwrap();
        assert_eq!(format(t), "2026-11-24T21:08:22Z");
    }
}
