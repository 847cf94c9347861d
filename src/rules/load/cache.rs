//! A cache of validated user rule files, so a start-up with thousands of
//! user rules does not parse and check their TOML on every run (issue 10
//! §4). One entry per clean file (no problems, every rule valid): a file
//! with problems is always read afresh, so its problems are reported as
//! they always are. Problems between files (duplicate ids, `supersedes`
//! naming no rule, limits) are found after the entries are read, from the
//! same spans, so a hit reports exactly what a miss does.
//!
//! An entry is named by a hash of faultline's version, the built-in pack,
//! the file's name and its text; it holds all of them, and is used only
//! when they are equal byte for byte (a hash collision cannot pass another
//! file's rules off). The directory is `$XDG_CACHE_HOME/faultline/rules`
//! (else `~/.cache/faultline/rules`); like a discovered rules directory it
//! is refused when it (or `faultline/` above it) belongs to another user
//! or can be written by everyone, and so is an entry file. Entries are
//! written to a temporary file and renamed into place (never half an
//! entry); an entry that does not read back is ignored and written again.
//! `--no-cache` or `FAULTLINE_NO_CACHE=1` turn it off.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::RuleSource;
use super::validate::{Loaded, Mentions};
use crate::rules::{Rule, SourceText};

/// Bumped when the entry layout changes (the version covers the rest).
const FORMAT: u32 = 1;
/// An entry bigger than this is not read (a rule file is at most
/// `MAX_FILE_BYTES`; its entry holds it and its rules).
const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// A usable cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// Borrowed from the entry's bytes when read: the text is only compared.
#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    format: u32,
    version: &'a str,
    pack: u64,
    name: &'a str,
    #[serde(borrow)]
    text: Bytes<'a>,
    rules: Vec<CachedRule>,
}

/// Bytes as one block, not a sequence of numbers (postcard writes both
/// alike, but reads only a block without copying it).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Bytes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de [u8]>::deserialize(d).map(Bytes)
    }
}

#[derive(Serialize, Deserialize)]
struct CachedRule {
    rule: Rule,
    id_span: Range<usize>,
    supersedes: Vec<(String, Range<usize>)>,
    mentions: Mentions,
}

impl Cache {
    /// The default cache directory, unless `FAULTLINE_NO_CACHE` is set (to
    /// anything but empty or `0`) or no home is known.
    pub fn default_dir() -> Option<PathBuf> {
        if std::env::var_os("FAULTLINE_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
            return None;
        }
        super::xdg_rules_dir("XDG_CACHE_HOME", ".cache")
    }

    /// The cache in `dir`, created (private to the user) if missing; `None`
    /// when it cannot be created or is not safe to trust.
    pub fn open(dir: &Path) -> Option<Cache> {
        if !dir.is_dir() {
            create_private_dir(dir).ok()?;
        }
        let mut check = vec![dir];
        check.extend(dir.parent().filter(|p| p.ends_with("faultline")));
        for path in check {
            if !trusted(&std::fs::metadata(path).ok()?) {
                return None;
            }
        }
        Some(Cache {
            dir: dir.to_path_buf(),
        })
    }

    /// The cache in `dir` as it is, unchecked: for tests that plant
    /// entries where [`Cache::open`] would refuse to look.
    #[doc(hidden)]
    pub fn open_unchecked(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, source: &RuleSource) -> PathBuf {
        let mut h = DefaultHasher::new();
        (FORMAT, env!("CARGO_PKG_VERSION"), pack_hash()).hash(&mut h);
        (&source.name, text_hash(source.text.as_bytes())).hash(&mut h);
        self.dir.join(format!("{:016x}.bin", h.finish()))
    }

    /// The validated rules of `source`, if a trusted entry holds exactly it.
    pub fn get(&self, source: &RuleSource) -> Option<Vec<Loaded>> {
        let mut file = std::fs::File::open(self.path(source)).ok()?;
        // Checked on the open file: what is read is what was checked.
        let meta = file.metadata().ok()?;
        if !meta.is_file() || !trusted(&meta) || meta.len() > MAX_ENTRY_BYTES {
            return None;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes).ok()?;
        let entry: Entry = postcard::from_bytes(&bytes).ok()?;
        if entry.format != FORMAT
            || entry.version != env!("CARGO_PKG_VERSION")
            || entry.pack != pack_hash()
            || entry.name != source.name
            || entry.text.0 != source.text.as_bytes()
        {
            return None;
        }
        let text = SourceText::Held(source.text.clone());
        Some(
            entry
                .rules
                .into_iter()
                .map(|c| {
                    let mut rule = c.rule;
                    // Not serialised: the text is the file's, shared.
                    rule.origin.text = Some(text.clone());
                    Loaded {
                        rule,
                        id_span: c.id_span,
                        supersedes: c
                            .supersedes
                            .into_iter()
                            .map(|(s, span)| Spanned::new(span, s))
                            .collect(),
                        mentions: c.mentions,
                        valid: true,
                    }
                })
                .collect(),
        )
    }

    /// Stores the rules of a clean file (the caller checks it is clean).
    /// Failing to write is not a problem: the next run parses again.
    pub fn put(&self, source: &RuleSource, rules: &[Loaded]) {
        let entry = Entry {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION"),
            pack: pack_hash(),
            name: &source.name,
            text: Bytes(source.text.as_bytes()),
            rules: rules
                .iter()
                .map(|l| CachedRule {
                    rule: l.rule.clone(),
                    id_span: l.id_span.clone(),
                    supersedes: l
                        .supersedes
                        .iter()
                        .map(|s| (s.get_ref().clone(), s.span()))
                        .collect(),
                    mentions: l.mentions.clone(),
                })
                .collect(),
        };
        let Ok(bytes) = postcard::to_allocvec(&entry) else {
            return;
        };
        let path = self.path(source);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self
            .dir
            .join(format!(".{}.{}.{nanos}.tmp", std::process::id(), unique()));
        let written = create_private_file(&tmp).and_then(|mut f| f.write_all(&bytes));
        if written.is_err() || std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Names an entry: a rule file may be megabytes, and the entry's own copy
/// of the text is what makes a hit certain, so this needs speed, not
/// strength (SipHash took a tenth of a cached start-up).
pub(crate) fn text_hash(text: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = text.len() as u64;
    let mut words = text.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

/// A number unique within the process (threads write entries at once).
fn unique() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A hash of the built-in pack and provider data: user rules are checked
/// against them (ids, fields), so a different pack is a different entry.
fn pack_hash() -> u64 {
    static HASH: OnceLock<u64> = OnceLock::new();
    *HASH.get_or_init(|| {
        let mut h = DefaultHasher::new();
        crate::rules::builtin::pack_bytes().hash(&mut h);
        crate::rules::builtin::PROVIDER_TEXTS.hash(&mut h);
        h.finish()
    })
}

/// Belongs to this user (or root) and cannot be written by everyone: the
/// policy for discovered rules directories (cli/discover.rs), since an
/// entry decides which rules run as surely as a rule file does.
#[cfg(unix)]
fn trusted(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    (meta.uid() == me || meta.uid() == 0) && meta.mode() & 0o002 == 0
}

#[cfg(not(unix))]
fn trusted(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::load::validate::{FileLoader, Parsed};

    const RULES: &str = r#"
[[rule]]
id = "acme.quota"
title = "Quota exhausted"
severity = "error"
confidence = 0.7
when = { status = 429, message = { regex = '(?i)quota (?P<what>\w+) exhausted' } }
cause = "The {what} quota is used up."
fix = "Wait for the quota to reset."
supersedes = ["http.too-many-requests"]
docs = ["https://example.com/quota"]

[[rule.example]]
input = '''HTTP/1.1 429 Too Many Requests

{"message": "Quota requests exhausted"}'''
matches = true

[[rule.example]]
input = '''HTTP/1.1 429 Too Many Requests

{"message": "Slow down"}'''
matches = false
"#;

    fn parse(source: &RuleSource) -> Vec<Loaded> {
        let mut file = FileLoader::new(source);
        let Parsed::Rules(rules) = file.parse() else {
            panic!("not a rule file")
        };
        assert!(file.problems.is_empty(), "{:?}", file.problems);
        rules
    }

    fn same(a: &[Loaded], b: &[Loaded]) {
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(b) {
            assert_eq!(a.rule, b.rule);
            assert_eq!(a.id_span, b.id_span);
            assert_eq!(a.supersedes, b.supersedes);
            assert_eq!(a.mentions, b.mentions);
            assert_eq!(a.valid, b.valid);
        }
    }

    fn tempdir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "faultline-cache-test-{tag}-{}-{}",
            std::process::id(),
            unique()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn an_entry_reads_back_as_parsed() {
        let dir = tempdir("roundtrip").join("faultline").join("rules");
        let cache = Cache::open(&dir).expect("a fresh private dir");
        let source = RuleSource::new("acme.toml", RULES, false);
        assert!(cache.get(&source).is_none(), "empty cache");
        let parsed = parse(&source);
        cache.put(&source, &parsed);
        let cached = cache.get(&source).expect("a hit");
        same(&cached, &parsed);
        // Another name or text is another entry.
        assert!(
            cache
                .get(&RuleSource::new("other.toml", RULES, false))
                .is_none()
        );
        let edited = RULES.replace("0.7", "0.8");
        assert!(
            cache
                .get(&RuleSource::new("acme.toml", edited, false))
                .is_none()
        );
        let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_corrupt_entry_is_ignored_and_rewritten() {
        let dir = tempdir("corrupt").join("faultline").join("rules");
        let cache = Cache::open(&dir).unwrap();
        let source = RuleSource::new("acme.toml", RULES, false);
        let parsed = parse(&source);
        cache.put(&source, &parsed);
        let path = cache.path(&source);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get(&source).is_none(), "half an entry");
        std::fs::write(&path, b"\xff\xff\xff\xff\xff garbage").unwrap();
        assert!(cache.get(&source).is_none(), "garbage");
        cache.put(&source, &parsed);
        same(&cache.get(&source).expect("rewritten"), &parsed);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn an_unsafe_directory_or_entry_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempdir("unsafe");
        let dir = root.join("faultline").join("rules");
        let cache = Cache::open(&dir).unwrap();
        let source = RuleSource::new("acme.toml", RULES, false);
        cache.put(&source, &parse(&source));
        assert!(cache.get(&source).is_some());
        let mode = |p: &Path, m: u32| std::fs::set_permissions(p, PermissionsExt::from_mode(m));
        // Anyone could have planted entries: neither read nor written.
        for writable in [dir.clone(), dir.parent().unwrap().to_path_buf()] {
            mode(&writable, 0o777).unwrap();
            assert!(Cache::open(&dir).is_none(), "{}", writable.display());
            mode(&writable, 0o700).unwrap();
        }
        assert!(Cache::open(&dir).is_some());
        // An entry anyone can write is not read.
        let entry = cache.path(&source);
        mode(&entry, 0o666).unwrap();
        assert!(cache.get(&source).is_none());
        mode(&entry, 0o600).unwrap();
        assert!(cache.get(&source).is_some());
        let _ = std::fs::remove_dir_all(&root);
    }
}
