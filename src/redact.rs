//! `faultline redact`: a share-safe copy of a log, for pasting into a forum
//! or a support ticket. Secrets are masked exactly as in every report (see
//! [`crate::mask`]); with `--ids`, identifiers too — e-mail addresses, IP
//! addresses, GUIDs (tenant, organisation, client, user ids) and user names
//! — each replaced by a stable placeholder, the same value by the same
//! placeholder throughout the run, so the copy still reads (and analyses)
//! like the original.
//!
//! It streams (line-aligned chunks, as the analysis reads them), keeps every
//! line where it was, and writes text faultline analyses to the same
//! diagnoses: placeholders keep the shape of what they replace (a GUID stays
//! a GUID, an address an address, a JWT stays a decodable JWT).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use regex::Regex;

use crate::input;
use crate::mask;

/// What to replace besides secrets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also e-mails, IPs, GUIDs and user names.
    pub ids: bool,
}

/// The kinds of identifier `--ids` replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Email,
    Ipv4,
    /// A private (RFC 1918) address: replaced by another private one, as
    /// diagnoses tell private hosts from public ones (a private CA is
    /// likely behind the first, a root-less image behind the second).
    Ipv4Private,
    Ipv6,
    Guid,
    User,
}

/// Stable placeholders: the n-th distinct value of a kind gets the n-th
/// placeholder. Memory grows with the number of distinct identifiers, not
/// with the size of the input.
#[derive(Debug, Default)]
pub struct Placeholders {
    seen: HashMap<(Kind, String), String>,
    counts: HashMap<Kind, usize>,
}

impl Placeholders {
    fn get(&mut self, kind: Kind, value: &str) -> String {
        let key = (kind, value.to_ascii_lowercase());
        if let Some(p) = self.seen.get(&key) {
            return p.clone();
        }
        let n = {
            let c = self.counts.entry(kind).or_insert(0);
            *c += 1;
            *c
        };
        let p = match kind {
            Kind::Email => format!("user{n}@example.com"),
            Kind::User => format!("user{n}"),
            // Documentation ranges (RFC 5737, RFC 3849).
            Kind::Ipv4 => {
                let nets = ["203.0.113", "198.51.100", "192.0.2"];
                let i = (n - 1) % (254 * nets.len());
                format!("{}.{}", nets[i / 254], i % 254 + 1)
            }
            Kind::Ipv4Private => {
                let i = n - 1;
                format!("10.0.{}.{}", (i / 254) % 256, i % 254 + 1)
            }
            Kind::Ipv6 => format!("2001:db8::{n:x}"),
            Kind::Guid => format!("00000000-0000-4000-8000-{n:012x}"),
        };
        self.seen.insert(key, p.clone());
        p
    }
}

fn id_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?P<guid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)",
            r"|(?P<email>\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b)",
            r"|(?P<ipv4>\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b)",
            r"|(?P<ipv6>\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b|\b(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:){0,5}[0-9a-fA-F]{1,4}\b)",
            // User names under their keys: quoted (JSON, dicts) or in a form
            // (`username=`); `login: …` in prose is not a key.
            r#"|(?i:(?:^|[^A-Za-z0-9_])(?:["'](?:user_?name|preferred_username|login|upn|user)["'][ \t]*[:=]|(?:user_?name|preferred_username|login|upn)[ \t]*=)[ \t]*["']?)(?P<user>[A-Za-z0-9._@\\-]{2,128})"#,
        ))
        .expect("id regex")
    })
}

/// Identifiers that are not personal and that diagnoses may name: loopback
/// and unspecified addresses, link-local addresses (169.254.0.0/16, where
/// every cloud serves its instance metadata at 169.254.169.254: the same on
/// every machine, so it identifies no one), and well-known GUIDs
/// (Microsoft's first-party application ids are mostly zeros).
/// Whether a dotted IPv4 address is in an RFC 1918 private range.
fn is_private_ipv4(value: &str) -> bool {
    let mut octets = value.split('.').map(|o| o.parse::<u8>().unwrap_or(0));
    match (octets.next(), octets.next()) {
        (Some(10), _) => true,
        (Some(172), Some(second)) => (16..=31).contains(&second),
        (Some(192), Some(168)) => true,
        _ => false,
    }
}

fn keep(kind: Kind, value: &str) -> bool {
    match kind {
        Kind::Ipv4 => {
            value.starts_with("127.") || value.starts_with("169.254.") || value == "0.0.0.0"
        }
        Kind::Ipv6 => {
            // `12:30:45` and MAC-like runs of two-digit groups are not addresses.
            value
                .split(':')
                .all(|g| g.len() <= 2 && g.bytes().all(|b| b.is_ascii_digit()))
        }
        Kind::Guid => value.bytes().filter(|&b| b == b'0').count() >= 16,
        Kind::User => matches!(
            value.to_ascii_lowercase().as_str(),
            "null" | "none" | "true" | "false" | "undefined" | "unknown"
        ),
        Kind::Email | Kind::Ipv4Private => false,
    }
}

/// Replacements `(range, text)` for the identifiers in `text`, outside
/// `masked` (secret ranges, sorted).
fn ids(
    text: &str,
    masked: &[Range<usize>],
    names: &mut Placeholders,
) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    for c in id_re().captures_iter(text) {
        let (kind, m) = if let Some(m) = c.name("guid") {
            (Kind::Guid, m)
        } else if let Some(m) = c.name("email") {
            (Kind::Email, m)
        } else if let Some(m) = c.name("ipv4") {
            (
                if is_private_ipv4(m.as_str()) {
                    Kind::Ipv4Private
                } else {
                    Kind::Ipv4
                },
                m,
            )
        } else if let Some(m) = c.name("ipv6") {
            (Kind::Ipv6, m)
        } else if let Some(m) = c.name("user") {
            // An e-mail as a user name is replaced as an e-mail.
            if m.as_str().contains('@') {
                (Kind::Email, m)
            } else {
                (Kind::User, m)
            }
        } else {
            continue;
        };
        let r = m.range();
        if keep(kind, m.as_str()) || overlaps(masked, &r) {
            continue;
        }
        out.push((r, names.get(kind, m.as_str())));
    }
    out
}

fn overlaps(sorted: &[Range<usize>], r: &Range<usize>) -> bool {
    let i = sorted.partition_point(|s| s.end <= r.start);
    sorted.get(i).is_some_and(|s| s.start < r.end)
}

/// JWT payloads hold identifiers too (e-mail, name, oid, tid): decoded,
/// redacted and encoded again, so the token still decodes to the same
/// claims with placeholders in them.
fn jwt_payloads(text: &str, names: &mut Placeholders) -> Vec<(Range<usize>, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\be[yw][A-Za-z0-9_-]{4,}={0,2}\.(?P<p>e[yw][A-Za-z0-9_-]{4,}={0,2})\.")
            .expect("jwt regex")
    });
    let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out = Vec::new();
    for c in re.captures_iter(text) {
        let Some(p) = c.name("p") else { continue };
        let Ok(bytes) = engine.decode(p.as_str().trim_end_matches('=')) else {
            continue;
        };
        let Ok(json) = String::from_utf8(bytes) else {
            continue;
        };
        let redacted = apply(&json, ids(&json, &[], names));
        if redacted != json {
            out.push((p.range(), engine.encode(redacted)));
        }
    }
    out
}

/// Applies sorted, non-overlapping replacements.
fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (r, with) in edits {
        if r.start < last {
            continue;
        }
        out.push_str(&text[last..r.start]);
        out.push_str(&with);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Redacts one piece of text (a chunk: whole lines).
pub fn redact_text(text: &str, options: &Options, names: &mut Placeholders) -> String {
    let secrets = mask::find(text);
    let mut edits: Vec<(Range<usize>, String)> = secrets
        .iter()
        .map(|r| (r.clone(), mask::MASK.to_string()))
        .collect();
    if options.ids {
        // Payloads first: a placeholder inside a re-encoded payload must not
        // be overwritten by a plain-text match over the same bytes.
        let payloads = jwt_payloads(text, names);
        let mut taken: Vec<Range<usize>> = secrets.clone();
        taken.extend(payloads.iter().map(|(r, _)| r.clone()));
        taken.sort_by_key(|r| r.start);
        edits.extend(payloads);
        edits.extend(ids(text, &taken, names));
    }
    apply(text, edits)
}

/// What a run of `redact` did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub bytes: u64,
    pub lines: usize,
}

/// Streams `reader` (gzip is decompressed) to `out`, redacted, one chunk of
/// whole lines at a time. `names` carries placeholders across files.
pub fn redact_stream<'r>(
    reader: impl Read + 'r,
    out: &mut dyn Write,
    options: &Options,
    names: &mut Placeholders,
) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let mut write_err: Option<io::Error> = None;
    let reader = input::decode(reader)?;
    let read = input::read_chunks(0, reader, input::CHUNK_SIZE, |chunk| {
        if write_err.is_some() {
            return;
        }
        stats.lines += chunk.text.matches('\n').count();
        let redacted = redact_text(&chunk.text, options, names);
        if let Err(e) = out.write_all(redacted.as_bytes()) {
            write_err = Some(e);
        }
    });
    if let Some(e) = write_err {
        return Err(e);
    }
    stats.bytes = read?;
    Ok(stats)
}

/// [`redact_stream`] with fresh placeholders (one input).
pub fn redact(reader: impl Read, out: &mut dyn Write, options: &Options) -> io::Result<Stats> {
    redact_stream(reader, out, options, &mut Placeholders::default())
}

/// `faultline redact PATH… [-o OUT]`: each input (a file, `-` or nothing
/// for stdin) redacted to `out` — stdout when absent; with several inputs a
/// directory that gets one file per input. Placeholders are shared by all
/// inputs. Returns the problems met (each names its input); the other
/// inputs are still written.
pub fn run(paths: &[PathBuf], out: Option<&Path>, options: &Options) -> Vec<String> {
    let stdin = PathBuf::from("-");
    let inputs: Vec<&PathBuf> = if paths.is_empty() {
        vec![&stdin]
    } else {
        paths.iter().collect()
    };
    let mut names = Placeholders::default();
    let mut problems = Vec::new();
    let into_dir = out.is_some_and(|o| inputs.len() > 1 || o.is_dir());
    if let Some(dir) = out.filter(|_| into_dir)
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        return vec![format!("cannot create {}: {e}", dir.display())];
    }
    let mut stdout = io::stdout().lock();
    for path in inputs {
        let is_stdin = path.as_os_str() == "-";
        let name = if is_stdin {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        };
        let reader: Box<dyn Read> = if is_stdin {
            Box::new(io::stdin().lock())
        } else {
            match File::open(path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    problems.push(format!("cannot read {name}: {e}"));
                    continue;
                }
            }
        };
        let target = match out {
            None => None,
            Some(o) if into_dir => {
                let file = path
                    .file_name()
                    .map(|f| f.to_string_lossy().trim_end_matches(".gz").to_string())
                    .filter(|f| !f.is_empty() && !is_stdin)
                    .unwrap_or_else(|| "stdin.log".into());
                Some(o.join(file))
            }
            Some(o) => Some(o.to_path_buf()),
        };
        if let Some(t) = &target
            && !is_stdin
            && same_file(path, t)
        {
            problems.push(format!(
                "{name}: refusing to overwrite the input with its redacted copy; choose another -o"
            ));
            continue;
        }
        let result = match &target {
            None => redact_stream(reader, &mut stdout, options, &mut names),
            Some(t) => File::create(t).and_then(|f| {
                let mut w = io::BufWriter::new(f);
                let stats = redact_stream(reader, &mut w, options, &mut names)?;
                w.flush()?;
                Ok(stats)
            }),
        };
        if let Err(e) = result {
            problems.push(format!("{name}: {e}"));
        }
    }
    problems
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, ids: bool) -> String {
        let mut out = Vec::new();
        redact(text.as_bytes(), &mut out, &Options { ids }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_secrets_and_keeps_lines() {
        let text = "POST /oauth/token HTTP/1.1\nAuthorization: Basic dTpw\n\ngrant_type=client_credentials&client_secret=abc123\n";
        let out = run(text, false);
        assert_eq!(
            out,
            "POST /oauth/token HTTP/1.1\nAuthorization: Basic ********\n\ngrant_type=client_credentials&client_secret=********\n"
        );
    }

    #[test]
    fn private_addresses_stay_private() {
        let out = run(
            "from 10.100.4.21 via 192.168.1.7 to 8.8.8.8 and 172.20.0.3",
            true,
        );
        assert_eq!(
            out,
            "from 10.0.0.1 via 10.0.0.2 to 203.0.113.1 and 10.0.0.3"
        );
    }

    #[test]
    fn ids_get_stable_placeholders() {
        let text = "user jane.doe@contoso.com from 10.1.2.3 org 3f1c2d9e-1111-4222-8333-944445555666\n\
                    again JANE.DOE@contoso.com 10.1.2.3 org 3F1C2D9E-1111-4222-8333-944445555666 other 10.9.9.9\n\
                    {\"username\": \"jdoe\", \"resource\": \"00000003-0000-0000-c000-000000000000\", \"ip\": \"127.0.0.1\"}\n";
        let out = run(text, true);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "user user1@example.com from 10.0.0.1 org 00000000-0000-4000-8000-000000000001"
        );
        assert_eq!(
            lines[1],
            "again user1@example.com 10.0.0.1 org 00000000-0000-4000-8000-000000000001 other 10.0.0.2"
        );
        assert_eq!(
            lines[2],
            "{\"username\": \"user1\", \"resource\": \"00000003-0000-0000-c000-000000000000\", \"ip\": \"127.0.0.1\"}"
        );
        // Without --ids, identifiers stay.
        assert_eq!(run(text, false), text);
    }

    #[test]
    fn jwt_payload_identifiers_are_replaced_and_the_token_still_decodes() {
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = engine.encode(r#"{"upn":"jane@contoso.com","tid":"3f1c2d9e-1111-4222-8333-944445555666","exp":1700000000}"#);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2lnbmF0dXJlLXh5eg");
        let out = run(&format!("Authorization: Bearer {token}\n"), true);
        assert!(!out.contains("c2lnbmF0dXJl"), "{out}");
        let jwt = crate::parse::jwt::find_all(&out).next().unwrap().1;
        let claims = crate::parse::jwt::decode(jwt).unwrap().payload;
        assert_eq!(claims["upn"], "user1@example.com");
        assert_eq!(claims["tid"], "00000000-0000-4000-8000-000000000001");
        assert_eq!(claims["exp"], 1700000000);
    }

    #[test]
    fn times_and_versions_are_not_addresses() {
        let text = "at 12:30:45 version 10.0.19041.1 mac 00:1a:2b:3c:4d:5e\n";
        assert_eq!(run(text, true), text);
    }
}
