//! A cache of validated user rule files, so a start-up with thousands of
//! user rules does not parse and check their TOML on every run (issue 10
//! §4). One entry per clean file (no problems, every rule valid): a file
//! with problems is always read afresh, so its problems are reported as
//! they always are. Problems between files (duplicate ids, `supersedes`
//! naming no rule, limits) are found after the entries are read, from the
//! same spans, so a hit reports exactly what a miss does.
//!
//! An entry is named by a hash of faultline's version, the built-in pack
//! and the file's name, and holds them and the file's stamp (size, times,
//! inode: see [`FileStamp`]) taken before its text was read. A file whose
//! stamp is the entry's is the file the entry was made from, as git's index
//! trusts it, so a hit reads neither the text again nor a copy of it.
//! Except for a racy stamp (git's word): a file changed less than
//! `RACY_NANOS` before its entry was written could change again within
//! the same timestamp tick and keep its stamp, so such an entry also holds
//! the text, and is used only when the text is equal byte for byte (and
//! written again without it once the stamp is old enough). The directory
//! is `$XDG_CACHE_HOME/faultline/rules`
//! (else `~/.cache/faultline/rules`); like a discovered rules directory it
//! is refused when it (or `faultline/` above it) belongs to another user
//! or can be written by everyone, and so is an entry file. Entries are
//! written to a temporary file and renamed into place (never half an
//! entry); an entry that does not read back is ignored and written again.
//! `--no-cache` or `FAULTLINE_NO_CACHE=1` turn it off.
//!
//! An entry holds what a run reads: a hit decodes each rule once per start,
//! so what no run of the cache's readers uses is left out or set apart.
//! The rules' prose (title, cause, fix, docs: most of an entry, and read
//! only for a rule shown) is one block after the entry, read from the file
//! when a rule is first shown, and checked by its hash to be the block the
//! rules were read with; rule examples (only `rules show` reads them,
//! through the cache) are one block after that, read only when asked for;
//! the loader's `Mentions` (only `rules check` reads them, and it never
//! uses the cache) are not stored. The entry's bytes stay held by its
//! rules, whose conditions are parts of them until first read.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::validate::{FileLoader, Loaded, Parsed};
use super::{FileStamp, RuleSource};
use crate::rules::digest::Digest;
use crate::rules::{
    Apart, Example, FileProof, LazyLogic, LazyProse, Names, Origin, Rule, Scope, Severity, Source,
    SourceText, put_number, reading_from, take_number, take_str, writing_apart,
};

/// Bumped when the entry layout changes (the version covers the rest).
const FORMAT: u32 = 14;
/// An entry file starts with the lengths of its entry and prose block and
/// the prose block's hash (see [`Prefix`]).
const PREFIX_BYTES: usize = 16;
/// An entry bigger than this is not read (a rule file is at most
/// `MAX_FILE_BYTES`; its entry holds its rules, and may hold its text).
const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// At most this many entries are kept open between [`Cache::proves`] and
/// [`Cache::get`]: far below the usual limit of 1,024 open files, which
/// the rule files still to read need too.
const KEPT_OPEN: usize = 256;

/// A usable cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// Whether hits carry their rules' examples (see [`Cache::with_examples`]).
    examples: bool,
    /// Entries that [`Cache::proves`] opened and read, by file name:
    /// [`Cache::get`] takes them from here rather than opening them again.
    opened: Arc<Mutex<HashMap<String, Opened>>>,
    /// What every entry's name is hashed from besides the file's name
    /// (see [`Cache::path_of_name`]), hashed once.
    keyed: DefaultHasher,
}

/// An entry file opened and checked by [`Cache::proves`]: the file (read
/// up to the end of the entry, for the prose and examples after it), its
/// path and [`Prefix`], the entry's bytes and how many rules it holds.
/// Read whole there, in two reads: reading its head there and the entry
/// again in [`Cache::get`] took a seek and two more reads per file.
#[derive(Debug)]
struct Opened {
    file: std::fs::File,
    path: PathBuf,
    prefix: Prefix,
    entry: Vec<u8>,
    rules: usize,
}

/// What an entry file starts with: the lengths of the entry and of the
/// rules' prose block after it (then come the examples), and the prose
/// block's hash, which tells a block read later from a rewritten file
/// (see [`fetch_prose`]). Little-endian: `u32`, `u32`, `u64`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Prefix {
    entry: usize,
    prose: usize,
    prose_hash: u64,
}

impl Prefix {
    fn read(file: &mut std::fs::File, file_len: u64) -> Option<Prefix> {
        let mut bytes = [0; PREFIX_BYTES];
        file.read_exact(&mut bytes).ok()?;
        Prefix::parse(bytes, file_len)
    }

    /// The prefix of a file of `file_len` bytes, if its parts fit in it.
    fn parse(bytes: [u8; PREFIX_BYTES], file_len: u64) -> Option<Prefix> {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let prefix = Prefix {
            entry: u32_at(0) as usize,
            prose: u32_at(4) as usize,
            prose_hash: u64::from_le_bytes(bytes[8..].try_into().expect("8 bytes")),
        };
        let room = file_len.checked_sub(PREFIX_BYTES as u64)?;
        (prefix.entry as u64 + prefix.prose as u64 <= room).then_some(prefix)
    }

    fn bytes(&self) -> Option<[u8; PREFIX_BYTES]> {
        let mut bytes = [0; PREFIX_BYTES];
        bytes[..4].copy_from_slice(&u32::try_from(self.entry).ok()?.to_le_bytes());
        bytes[4..8].copy_from_slice(&u32::try_from(self.prose).ok()?.to_le_bytes());
        bytes[8..].copy_from_slice(&self.prose_hash.to_le_bytes());
        Some(bytes)
    }
}

/// Borrowed from the entry's bytes when read: the text is only compared.
#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    format: u32,
    version: &'a str,
    pack: u64,
    name: &'a str,
    stamp: FileStamp,
    /// The file's text when the stamp was racy (see the module's doc).
    #[serde(borrow)]
    text: Option<Bytes<'a>>,
    /// The rules, without their examples (which follow the entry in its
    /// file: see [`Cache::write`]), in the layout of [`put_rules`].
    #[serde(borrow)]
    rules: Bytes<'a>,
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

/// A file's rules as an entry holds them, written by hand rather than by
/// serde: decoding each rule's dozen fixed fields through serde and
/// postcard's visitors was most of a hit (12.9 M of the 40 M instructions
/// a paste took with 4,410 cached user rules, about 2,700 per rule), and
/// so was the conditions' digest. The conditions and the prose stay
/// encoded blocks, read in place (see `model::Encoded`).
///
/// The number of rules, then per rule: its id, the span of its `id`
/// value, severity, scope and `expected` (a byte each), confidence (`f64` bits), the
/// provider, the origin's `builtin`, line, `overrides_builtin` and
/// `overrides`, the names in `supersedes` and their spans, the digest of
/// the conditions (see `Digest::put`), the conditions as one block (read
/// in place), then the prose's start and length in the prose block (see
/// `model::writing_apart`, two numbers). Numbers are LEB128, strings their
/// length then their bytes, options a byte (0 or 1) then the value. The
/// origin's file is the entry's name, not repeated.
fn put_rules(rules: &[Loaded]) -> Result<Vec<u8>, postcard::Error> {
    let mut out = Vec::new();
    put_number(&mut out, rules.len());
    for loaded in rules {
        let rule = &loaded.rule;
        put_str(&mut out, &rule.id);
        put_number(&mut out, loaded.id_span.start);
        put_number(&mut out, loaded.id_span.end);
        out.push(match rule.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        });
        out.push(match rule.scope {
            Scope::Incident => 0,
            Scope::Input => 1,
        });
        out.push(u8::from(rule.expected));
        out.push(u8::from(rule.yields));
        out.extend_from_slice(&rule.confidence.to_bits().to_le_bytes());
        put_option_str(&mut out, rule.provider.as_deref());
        out.push(u8::from(rule.origin.builtin));
        put_number(&mut out, rule.origin.line);
        out.push(u8::from(rule.origin.overrides_builtin));
        put_option_str(&mut out, rule.origin.overrides.as_deref());
        put_number(&mut out, rule.supersedes.len());
        for name in rule.supersedes.iter() {
            put_str(&mut out, name);
        }
        put_number(&mut out, loaded.supersedes.len());
        for name in &loaded.supersedes {
            put_str(&mut out, name.get_ref());
            put_number(&mut out, name.span().start);
            put_number(&mut out, name.span().end);
        }
        rule.digest().put(&mut out);
        let conditions = rule.logic.encoded_block()?;
        put_number(&mut out, conditions.len());
        out.extend_from_slice(&conditions);
        out = postcard::to_extend(&rule.prose, out)?;
    }
    Ok(out)
}

/// The rules [`put_rules`] wrote in `block`, a part of the entry bytes
/// being read (see [`reading_from`]); `None` if the block is damaged: a
/// length or count past its end, a byte out of range, bytes left over.
/// `file` is every rule's origin file, `prose` the entry's prose block.
fn take_rules(block: &[u8], file: &Arc<str>, prose: &Arc<Apart>) -> Option<Vec<Loaded>> {
    let mut at = Reader(block);
    let count = at.number()?;
    // Each rule takes at least a dozen bytes: a lying count cannot make
    // room for more rules than the block holds.
    let mut rules = Vec::with_capacity(count.min(block.len() / 12));
    for _ in 0..count {
        let id = at.str()?.to_string();
        let id_span = at.number()?..at.number()?;
        let severity = match at.byte()? {
            0 => Severity::Error,
            1 => Severity::Warning,
            2 => Severity::Info,
            _ => return None,
        };
        let scope = match at.byte()? {
            0 => Scope::Incident,
            1 => Scope::Input,
            _ => return None,
        };
        let expected = at.bool()?;
        let yields = at.bool()?;
        let confidence = f64::from_bits(u64::from_le_bytes(at.take(8)?.try_into().ok()?));
        let provider = at.option_str()?.map(str::to_string);
        let builtin = at.bool()?;
        let line = at.number()?;
        let overrides_builtin = at.bool()?;
        let overrides = at.option_str()?.map(Box::from);
        let names = at.number()?;
        let supersedes_names = (0..names)
            .map(|_| at.str().map(str::to_string))
            .collect::<Option<Vec<String>>>()?;
        let spanned = at.number()?;
        let supersedes = (0..spanned)
            .map(|_| {
                let name = at.str()?.to_string();
                Some(Spanned::new(at.number()?..at.number()?, name))
            })
            .collect::<Option<Vec<_>>>()?;
        let digest = Digest::take(&mut at.0)?;
        let conditions = at.block()?;
        let logic = LazyLogic::from_parts(digest, conditions);
        // Its range in the prose block, as postcard writes two `u32`s.
        let start = u32::try_from(at.number()?).ok()?;
        let len = u32::try_from(at.number()?).ok()?;
        let prose = LazyProse::apart(prose, start, len)?;
        rules.push(Loaded {
            rule: Rule {
                id,
                severity,
                confidence,
                provider,
                scope,
                expected,
                yields,
                logic,
                prose,
                supersedes: Names::new(&supersedes_names),
                examples: Vec::new(),
                origin: Origin {
                    file: file.clone(),
                    builtin,
                    line,
                    overrides_builtin,
                    overrides,
                    text: None,
                },
            },
            id_span,
            supersedes,
            mentions: None,
            valid: true,
        });
    }
    at.0.is_empty().then_some(rules)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_number(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_option_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

/// The rest of a block of [`put_rules`] being read: every take checks
/// that the block holds it.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn bool(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// A number of at most 32 bits (counts, lengths, places in a rule
    /// file of at most `MAX_FILE_BYTES`).
    fn number(&mut self) -> Option<usize> {
        take_number(&mut self.0)
    }

    fn str(&mut self) -> Option<&'a str> {
        take_str(&mut self.0)
    }

    fn option_str(&mut self) -> Option<Option<&'a str>> {
        match self.byte()? {
            0 => Some(None),
            1 => self.str().map(Some),
            _ => None,
        }
    }

    /// A block of bytes, its length first.
    fn block(&mut self) -> Option<&'a [u8]> {
        let len = self.number()?;
        self.take(len)
    }
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
        Some(Cache::open_unchecked(dir))
    }

    /// The cache in `dir` as it is, unchecked: for tests that plant
    /// entries where [`Cache::open`] would refuse to look.
    #[doc(hidden)]
    pub fn open_unchecked(dir: &Path) -> Cache {
        let mut keyed = DefaultHasher::new();
        (FORMAT, env!("CARGO_PKG_VERSION"), pack_hash()).hash(&mut keyed);
        Cache {
            dir: dir.to_path_buf(),
            examples: false,
            opened: Arc::default(),
            keyed,
        }
    }

    /// Hits carry their rules' examples, for a command that shows them
    /// (else they come back without: what an analysis needs).
    pub fn with_examples(self) -> Cache {
        Cache {
            examples: true,
            ..self
        }
    }

    #[cfg(test)]
    fn path(&self, source: &RuleSource) -> PathBuf {
        self.path_of_name(&source.name)
    }

    /// The entry file of the rule file `name`: named by a hash of
    /// faultline's version, the built-in pack and `name`.
    fn path_of_name(&self, name: &str) -> PathBuf {
        let mut h = self.keyed.clone();
        name.hash(&mut h);
        self.dir.join(format!("{:016x}.bin", h.finish()))
    }

    /// Whether a trusted entry for the file `name` was made from the file
    /// with this stamp, and the stamp alone proves it (not racy): the
    /// file's rules can then come from the entry without its text being
    /// read. Reads the entry (not the prose and examples after it), which
    /// stays in hand, with its file open, for [`Cache::get`].
    pub fn proves(&self, name: &str, stamp: &FileStamp) -> bool {
        let read = || -> Option<bool> {
            let (mut file, len, path) = self.open_entry(name)?;
            let prefix = Prefix::read(&mut file, len)?;
            let bytes = read_block(&mut file, prefix.entry)?;
            let entry: Entry = postcard::from_bytes(&bytes).ok()?;
            let proven = entry.format == FORMAT
                && entry.version == env!("CARGO_PKG_VERSION")
                && entry.pack == pack_hash()
                && entry.name == name
                && entry.stamp == *stamp
                && entry.text.is_none()
                && !racy(stamp);
            // The count the rules block starts with (see `put_rules`): room
            // is made for the rules before they are read. A lying count
            // only makes too much room; `take_rules` checks it.
            let rules = take_number(&mut &entry.rules.0[..])?.min(entry.rules.0.len() / 12);
            let mut opened = self
                .opened
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if proven && opened.len() < KEPT_OPEN {
                opened.insert(
                    name.to_string(),
                    Opened {
                        file,
                        path,
                        prefix,
                        entry: bytes,
                        rules,
                    },
                );
            }
            Some(proven)
        };
        read().unwrap_or(false)
    }

    /// How many rules the entry [`Cache::proves`] kept for the file `name`
    /// holds, if it kept one: [`Cache::get`] then reads no file.
    pub fn held(&self, name: &str) -> Option<usize> {
        self.opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .map(|o| o.rules)
    }

    /// The entry file for `name`, opened, if it is a file this user can
    /// trust and not too big to read, with its length. Checked on the open
    /// file: what is read is what was checked.
    fn open_entry(&self, name: &str) -> Option<(std::fs::File, u64, PathBuf)> {
        let path = self.path_of_name(name);
        let file = std::fs::File::open(&path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || !trusted(&meta) || meta.len() > MAX_ENTRY_BYTES {
            return None;
        }
        Some((file, meta.len(), path))
    }

    /// The validated rules of `source`, if a trusted entry was made from
    /// this very file; with their examples only if [`Cache::with_examples`],
    /// and without `Mentions` (see the module's doc). Only a source read
    /// from a file (with a stamp) can hit.
    pub fn get(&self, source: &RuleSource) -> Option<Vec<Loaded>> {
        let stamp = source.stamp?;
        let kept = self
            .opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&source.name);
        // The entry, without the prose and examples after it: the prose is
        // read when a rule is shown, the examples if they are asked for.
        let (mut file, path, prefix, bytes) = match kept {
            Some(kept) => (kept.file, kept.path, kept.prefix, kept.entry),
            None => {
                let (mut file, file_len, path) = self.open_entry(&source.name)?;
                let prefix = Prefix::read(&mut file, file_len)?;
                let bytes = read_block(&mut file, prefix.entry)?;
                (file, path, prefix, bytes)
            }
        };
        // Held by the rules read from it: their conditions are parts of
        // it, decoded on first read (see `model::Encoded`).
        let bytes = Arc::new(bytes);
        // A source that hits was read from a file: its name is the path.
        let rule_file = PathBuf::from(&source.name);
        let prose = Arc::new(Apart::new(prefix.prose, move || {
            fetch_prose(&path, prefix).or_else(|| prose_from_rule_file(&rule_file, prefix))
        }));
        let read = Source::WithProseApart(bytes.clone(), prose.clone());
        let entry: Entry = postcard::from_bytes(&bytes).ok()?;
        if entry.format != FORMAT
            || entry.version != env!("CARGO_PKG_VERSION")
            || entry.pack != pack_hash()
            || entry.name != source.name
            || entry.stamp != stamp
            || stamp.size != source.text_len() as u64
            || entry
                .text
                .as_ref()
                .is_some_and(|t| t.0 != source.text().as_bytes())
        {
            return None;
        }
        let origin_file: Arc<str> = source.name.as_str().into();
        let mut rules = reading_from(read, || take_rules(entry.rules.0, &origin_file, &prose))?;
        let rewrite = entry.text.is_some() && !racy(&stamp);
        let mut examples_block = Vec::new();
        if self.examples || rewrite {
            // The prose too, in hand: no second read when it is shown.
            let prose_block = read_block(&mut file, prefix.prose)?;
            file.read_to_end(&mut examples_block).ok()?;
            if text_hash(&prose_block) == prefix.prose_hash {
                if rewrite {
                    // Now proven by its stamp alone: the next runs skip
                    // comparing.
                    let written = Entry {
                        text: None,
                        ..entry
                    };
                    self.write(&written, &prose_block, &examples_block);
                }
                prose.know(prose_block);
            }
        }
        let mut examples: Vec<Vec<Example>> = if self.examples {
            postcard::from_bytes(&examples_block).ok()?
        } else {
            Vec::new()
        };
        if self.examples && examples.len() != rules.len() {
            return None;
        }
        examples.reverse();
        // A file left unread is proven by its stamp (see `Cache::proves`).
        let text = Arc::new(if source.is_read() {
            SourceText::Held(source.text().clone(), source.stamp)
        } else {
            SourceText::OnDisk {
                len: source.text_len(),
                proof: FileProof::Stamp(stamp),
            }
        });
        for loaded in &mut rules {
            loaded.rule.examples = examples.pop().unwrap_or_default();
            // Not stored: the text is the file's, shared.
            loaded.rule.origin.text = Some(text.clone());
        }
        Some(rules)
    }

    /// Stores the rules of a clean file read from a file (the caller
    /// checks it is clean). Failing to write is not a problem: the next run
    /// parses again.
    pub fn put(&self, source: &RuleSource, rules: &[Loaded]) {
        let Some(stamp) = source.stamp else {
            return;
        };
        if stamp.size != source.text().len() as u64 || !source.read_at_stamp() {
            return;
        }
        let examples: Vec<&[Example]> = rules.iter().map(|l| l.rule.examples.as_slice()).collect();
        let Ok(examples) = postcard::to_allocvec(&examples) else {
            return;
        };
        // Every rule's origin is the file: not stored (see `put_rules`).
        if rules.iter().any(|l| *l.rule.origin.file != *source.name) {
            return;
        }
        let (Ok(rules_block), prose) = writing_apart(|| put_rules(rules)) else {
            return;
        };
        let entry = Entry {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION"),
            pack: pack_hash(),
            name: &source.name,
            stamp,
            text: racy(&stamp).then(|| Bytes(source.text().as_bytes())),
            rules: Bytes(&rules_block),
        };
        self.write(&entry, &prose, &examples);
    }

    /// Writes the [`Prefix`], the entry, its rules' prose block, then the
    /// examples block (postcard, `Vec<Vec<Example>>`). A run reads the
    /// entry, the prose of the rules it shows, and the examples only if it
    /// shows them.
    fn write(&self, entry: &Entry, prose: &[u8], examples: &[u8]) {
        let Ok(entry_bytes) = postcard::to_allocvec(entry) else {
            return;
        };
        let prefix = Prefix {
            entry: entry_bytes.len(),
            prose: prose.len(),
            prose_hash: text_hash(prose),
        };
        let Some(prefix) = prefix.bytes() else {
            return;
        };
        let mut bytes =
            Vec::with_capacity(PREFIX_BYTES + entry_bytes.len() + prose.len() + examples.len());
        bytes.extend_from_slice(&prefix);
        bytes.extend_from_slice(&entry_bytes);
        bytes.extend_from_slice(prose);
        bytes.extend_from_slice(examples);
        let path = self.path_of_name(entry.name);
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

/// A rule file's text, hashed: what a released rule set keeps of it
/// ([`crate::rules::SourceText`]) to tell whether the file on disk is still
/// the one its spans point into. Needs speed, not strength.
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

/// The prose block of the entry file at `path`, read when a rule of the
/// entry is first shown, if it is still the block of `prefix`: the entry
/// may have been written again since it was read (without its text, or by
/// another run), which keeps the block only if the rules are the same.
fn fetch_prose(path: &Path, prefix: Prefix) -> Option<Vec<u8>> {
    let mut file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || !trusted(&meta) {
        return None;
    }
    let now = Prefix::read(&mut file, meta.len())?;
    if (now.prose, now.prose_hash) != (prefix.prose, prefix.prose_hash) {
        return None;
    }
    file.seek(SeekFrom::Start((PREFIX_BYTES + now.entry) as u64))
        .ok()?;
    let block = read_block(&mut file, now.prose)?;
    (text_hash(&block) == prefix.prose_hash).then_some(block)
}

/// The prose block of `prefix` written anew from the rule file itself,
/// for an entry deleted or written again (by another run, for other rules)
/// between reading its rules and showing one: the file is read and
/// validated again, and its rules' prose is taken only if it is, byte for
/// byte, the block the rules were read with (same length and hash).
fn prose_from_rule_file(file: &Path, prefix: Prefix) -> Option<Vec<u8>> {
    let source = RuleSource::read(file).ok()?;
    if source.oversize.is_some() {
        return None;
    }
    let mut loader = FileLoader::new(&source);
    let Parsed::Rules(rules) = loader.parse() else {
        return None;
    };
    // As `Cache::put` writes them: a rule's prose, one after the other.
    let (encoded, block) = writing_apart(|| {
        rules
            .iter()
            .try_for_each(|l| postcard::to_allocvec(&l.rule.prose).map(drop))
    });
    encoded.ok()?;
    (block.len() == prefix.prose && text_hash(&block) == prefix.prose_hash).then_some(block)
}

/// The next `len` bytes of `file` (fewer where it ends first: the caller's
/// decoding or hash check then fails).
fn read_block(file: &mut std::fs::File, len: usize) -> Option<Vec<u8>> {
    let mut block = Vec::with_capacity(len);
    file.take(len as u64).read_to_end(&mut block).ok()?;
    Some(block)
}

fn racy(stamp: &FileStamp) -> bool {
    stamp.is_racy()
}

/// A number unique within the process (threads write entries at once).
fn unique() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The built-in pack and provider data, hashed: user rules are checked
/// against them (ids, fields), so a different pack is a different entry.
fn pack_hash() -> u64 {
    crate::rules::builtin::pack_hash()
}

/// Belongs to this user (or root) and cannot be written by everyone: the
/// policy for discovered rules directories (cli/discover.rs), since an
/// entry decides which rules run as surely as a rule file does.
#[cfg(unix)]
fn trusted(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // Asked once: every entry is checked, twice with `Cache::proves`, and
    // faultline never changes its user.
    static ME: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = *ME.get_or_init(|| unsafe { libc::geteuid() });
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

    /// A hit equals the parse, but for what the cache leaves out: the
    /// examples unless asked for, and the mentions.
    fn same(cached: &[Loaded], parsed: &[Loaded], examples: bool) {
        assert_eq!(cached.len(), parsed.len());
        for (a, b) in cached.iter().zip(parsed) {
            let mut expected = b.rule.clone();
            if !examples {
                expected.examples.clear();
            }
            assert_eq!(a.rule, expected);
            assert_eq!(a.id_span, b.id_span);
            assert_eq!(a.supersedes, b.supersedes);
            assert_eq!(a.mentions, None);
            assert_eq!(a.valid, b.valid);
        }
    }

    /// A cache in a fresh directory for `tag`, holding the entry of
    /// [`RULES`] read as `acme.toml`: the directory (to remove), the
    /// cache, the source and its rules as parsed.
    fn cached_acme(tag: &str) -> (PathBuf, Cache, RuleSource, Vec<Loaded>) {
        let root = tempdir(tag);
        let cache = Cache::open(&root.join("faultline").join("rules")).unwrap();
        let source = stamped("acme.toml", RULES, false, 7);
        let parsed = parse(&source);
        cache.put(&source, &parsed);
        (root, cache, source, parsed)
    }

    /// The first rule's title.
    fn title(rules: &[Loaded]) -> String {
        rules[0].rule.prose().title.to_string()
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

    /// `text` as if read from a file with this stamp (`recent`: changed
    /// just now, so racy; else an hour ago).
    fn stamped(name: &str, text: &str, recent: bool, inode: u64) -> RuleSource {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64;
        let time = if recent { now } else { now - 3_600_000_000_000 };
        let mut source = RuleSource::new(name, text, false);
        source.stamp = Some(FileStamp {
            size: text.len() as u64,
            modified: time,
            changed: time,
            inode,
            device: 1,
        });
        source
    }

    /// An entry file's entry, prose block and examples block.
    fn read_entry(bytes: &[u8]) -> (Entry<'_>, &[u8], &[u8]) {
        let head = bytes[..PREFIX_BYTES].try_into().unwrap();
        let prefix = Prefix::parse(head, bytes.len() as u64).unwrap();
        let entry_end = PREFIX_BYTES + prefix.entry;
        let prose_end = entry_end + prefix.prose;
        let entry = postcard::from_bytes(&bytes[PREFIX_BYTES..entry_end]).unwrap();
        (entry, &bytes[entry_end..prose_end], &bytes[prose_end..])
    }

    fn entry_text(cache: &Cache, source: &RuleSource) -> Option<Vec<u8>> {
        let bytes = std::fs::read(cache.path(source)).unwrap();
        read_entry(&bytes).0.text.map(|t| t.0.to_vec())
    }

    #[test]
    fn an_entry_reads_back_as_parsed() {
        let dir = tempdir("roundtrip").join("faultline").join("rules");
        let cache = Cache::open(&dir).expect("a fresh private dir");
        let source = stamped("acme.toml", RULES, false, 7);
        assert!(cache.get(&source).is_none(), "empty cache");
        let parsed = parse(&source);
        cache.put(&source, &parsed);
        let cached = cache.get(&source).expect("a hit");
        same(&cached, &parsed, false);
        assert!(!parsed[0].rule.examples.is_empty());
        let with_examples = cache.clone().with_examples().get(&source);
        same(&with_examples.expect("a hit"), &parsed, true);
        // An old stamp proves the file: the entry holds no copy of it.
        assert_eq!(entry_text(&cache, &source), None);
        // So the stamp proves it (the file need not be read), and only it.
        let stamp = source.stamp.unwrap();
        assert!(cache.proves("acme.toml", &stamp));
        assert!(!cache.proves("other.toml", &stamp));
        let other_stamp = stamped("acme.toml", RULES, false, 8).stamp.unwrap();
        assert!(!cache.proves("acme.toml", &other_stamp));
        let racy_stamp = stamped("acme.toml", RULES, true, 7).stamp.unwrap();
        assert!(!cache.proves("acme.toml", &racy_stamp));
        // Another name, or another stamp (a rewrite, a replacement), or
        // text not read from a file, is not this entry.
        assert!(cache.get(&stamped("other.toml", RULES, false, 7)).is_none());
        let edited = RULES.replace("0.7", "0.8");
        assert!(
            cache
                .get(&stamped("acme.toml", &edited, false, 8))
                .is_none()
        );
        assert!(cache.get(&stamped("acme.toml", RULES, true, 7)).is_none());
        assert!(
            cache
                .get(&RuleSource::new("acme.toml", RULES, false))
                .is_none()
        );
        let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_racy_entry_holds_the_text_and_compares_it() {
        let dir = tempdir("racy").join("faultline").join("rules");
        let cache = Cache::open(&dir).unwrap();
        // Cached in the tick it was written: an edit in the same tick
        // (same size, same stamp) must not be taken for it.
        let source = stamped("acme.toml", RULES, true, 7);
        let parsed = parse(&source);
        cache.put(&source, &parsed);
        assert_eq!(
            entry_text(&cache, &source).as_deref(),
            Some(RULES.as_bytes())
        );
        assert!(
            !cache.proves("acme.toml", &source.stamp.unwrap()),
            "an entry holding the text proves nothing alone"
        );
        same(&cache.get(&source).expect("the same text"), &parsed, false);
        let edited = RuleSource::with_text(
            source.name.clone(),
            std::sync::Arc::new(RULES.replace("0.7", "0.9")),
            false,
            source.stamp,
        );
        assert!(cache.get(&edited).is_none(), "same stamp, other text");
        // Once the stamp is old enough, a hit writes the entry again
        // without the text: the stamp alone proves the file from then on.
        let old = stamped("acme.toml", RULES, false, 7);
        let bytes = std::fs::read(cache.path(&source)).unwrap();
        let (mut entry, prose, examples) = read_entry(&bytes);
        entry.stamp = old.stamp.unwrap();
        cache.write(&entry, prose, examples);
        same(&cache.get(&old).expect("a hit"), &parsed, false);
        assert_eq!(entry_text(&cache, &old), None);
        same(&cache.get(&old).expect("still a hit"), &parsed, false);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn prose_is_read_from_its_block_when_shown() {
        let (root, cache, source, parsed) = cached_acme("prose");
        let path = cache.path(&source);
        // Read after its entry was written again for the same rules (as a
        // racy entry is, without its text): the same block, found anew.
        let kept = cache.get(&source).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (mut entry, prose, examples) = read_entry(&bytes);
        entry.text = Some(Bytes(b"some text"));
        cache.write(&entry, prose, examples);
        assert_ne!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(title(&kept), "Quota exhausted");
        same(&kept, &parsed, false);
        // Gone, or made from other rules since, and no rule file to read
        // the prose from again (`acme.toml` is only a name here): a note,
        // never their text.
        cache.put(&source, &parsed);
        let gone = cache.get(&source).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(title(&gone).contains("damaged"), "{}", title(&gone));
        cache.put(&source, &parsed);
        let stale = cache.get(&source).unwrap();
        let edited = RULES.replace("Quota exhausted", "Quota gone");
        let other = stamped("acme.toml", &edited, false, 7);
        cache.put(&other, &parse(&other));
        assert!(title(&stale).contains("damaged"), "{}", title(&stale));
        assert_eq!(title(&cache.get(&other).unwrap()), "Quota gone");
        // Cut within its prose: a miss, not a panic.
        let bytes = std::fs::read(&path).unwrap();
        let head = bytes[..PREFIX_BYTES].try_into().unwrap();
        let prefix = Prefix::parse(head, bytes.len() as u64).unwrap();
        let cut = PREFIX_BYTES + prefix.entry + prefix.prose / 2;
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(cache.get(&other).is_none());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn prose_of_a_lost_entry_is_read_from_the_rule_file() {
        let root = tempdir("refetch");
        let cache = Cache::open(&root.join("faultline").join("rules")).unwrap();
        let file = root.join("acme.toml");
        std::fs::write(&file, RULES).unwrap();
        let source = stamped(file.to_str().unwrap(), RULES, false, 7);
        let parsed = parse(&source);
        // The entry deleted between reading the rules and showing one.
        cache.put(&source, &parsed);
        let gone = cache.get(&source).unwrap();
        std::fs::remove_file(cache.path(&source)).unwrap();
        assert_eq!(title(&gone), "Quota exhausted");
        same(&gone, &parsed, false);
        // Written again meanwhile for other rules (another run's edit).
        cache.put(&source, &parsed);
        let stale = cache.get(&source).unwrap();
        let edited = RULES.replace("Quota exhausted", "Quota gone");
        let other = stamped(file.to_str().unwrap(), &edited, false, 8);
        cache.put(&other, &parse(&other));
        same(&stale, &parsed, false);
        // The rule file edited too: its prose is not the rules', a note.
        cache.put(&source, &parsed);
        let both = cache.get(&source).unwrap();
        std::fs::remove_file(cache.path(&source)).unwrap();
        std::fs::write(&file, &edited).unwrap();
        assert!(title(&both).contains("damaged"), "{}", title(&both));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_corrupt_entry_is_ignored_and_rewritten() {
        let (root, cache, source, parsed) = cached_acme("corrupt");
        let path = cache.path(&source);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get(&source).is_none(), "half an entry");
        std::fs::write(&path, b"\xff\xff\xff\xff\xff garbage").unwrap();
        assert!(cache.get(&source).is_none(), "garbage");
        cache.put(&source, &parsed);
        same(&cache.get(&source).expect("rewritten"), &parsed, false);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_damaged_rules_block_is_a_miss_not_a_panic() {
        let source = stamped("acme.toml", RULES, false, 7);
        let parsed = parse(&source);
        let file: Arc<str> = "acme.toml".into();
        // As `Cache::put` writes it: the prose apart, in a block of its own.
        let (block, prose) = writing_apart(|| put_rules(&parsed));
        let block = block.unwrap();
        let apart = Arc::new(Apart::new(prose.len(), || None));
        apart.know(prose);
        let mut whole = take_rules(&block, &file, &apart).expect("whole");
        for loaded in &mut whole {
            // Set by `Cache::get`, not stored.
            loaded.rule.origin.text = parsed[0].rule.origin.text.clone();
        }
        same(&whole, &parsed, false);
        // Cut anywhere, a length or count then runs past the end.
        for cut in 0..block.len() {
            assert!(
                take_rules(&block[..cut], &file, &apart).is_none(),
                "cut at {cut}"
            );
        }
        // A count that lies (more rules than the block holds), a length
        // past the end (the id's), bytes left over, a severity of no rule.
        let mut lying_count = block.clone();
        lying_count[0] = 0x7f;
        assert!(take_rules(&lying_count, &file, &apart).is_none());
        let mut lying_length = block.clone();
        lying_length[1] = 0x7f;
        assert!(take_rules(&lying_length, &file, &apart).is_none());
        let mut longer = block.clone();
        longer.push(0);
        assert!(take_rules(&longer, &file, &apart).is_none());
        let severity_at = 2 + "acme.quota".len() + 2;
        assert_eq!(block[severity_at], 0, "error");
        let mut bad_severity = block.clone();
        bad_severity[severity_at] = 9;
        assert!(take_rules(&bad_severity, &file, &apart).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn an_unsafe_directory_or_entry_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempdir("unsafe");
        let dir = root.join("faultline").join("rules");
        let cache = Cache::open(&dir).unwrap();
        let source = stamped("acme.toml", RULES, false, 7);
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
