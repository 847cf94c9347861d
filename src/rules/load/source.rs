//! A rule file's text, read with a size limit, and its line index.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::catalogue::limits::MAX_FILE_BYTES;

/// A rule file's text and where it came from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub name: String,
    pub text: Arc<String>,
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
/// time cannot be set back. Nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    pub size: u64,
    pub modified: i128,
    pub changed: i128,
    pub inode: u64,
    pub device: u64,
}

impl FileStamp {
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        let nanos = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
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
            .map_or(0, |d| d.as_nanos() as i128);
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
const RACY_NANOS: i128 = 3_000_000_000;

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
            .map_or(i128::MAX, |d| d.as_nanos() as i128);
        self.modified.max(self.changed) > now.saturating_sub(RACY_NANOS)
    }
}

impl RuleSource {
    /// A source from text in memory.
    pub fn new(name: impl Into<String>, text: impl Into<String>, builtin: bool) -> Self {
        RuleSource {
            name: name.into(),
            text: Arc::new(text.into()),
            builtin,
            layer: if builtin { 0 } else { 1 },
            oversize: None,
            stamp: None,
        }
    }

    /// Reads a rule file, at most [`MAX_FILE_BYTES`] of it (a huge file is
    /// a problem to report, not something to hold in memory).
    pub fn read(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        // Before reading: a change made while reading shows in the stamp.
        let stamp = file.metadata().ok().map(|m| FileStamp::of(&m));
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
            name: path.to_string_lossy().into_owned(),
            text: Arc::new(text),
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
