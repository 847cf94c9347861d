//! Finding rule files.

use std::path::{Path, PathBuf};

use super::catalogue::limits::MAX_FILES;

/// Rule files under a directory (recursively) or the file itself; at most
/// one more than a run may load, so that a huge tree is reported (by
/// `load`), not read.
pub fn rule_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| e.into_path())
        .take(MAX_FILES + 1)
        .collect();
    files.sort();
    files
}
