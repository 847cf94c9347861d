//! The cache of validated user rule files (issue 10 §4): a run that reads
//! rules from the cache reports exactly what a run that parses them does —
//! the analysis, and every rule problem, including problems between files
//! and in files that were never cached; a corrupt entry is ignored and
//! written again; a cache directory anyone can write to is not used.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Sandbox {
    root: tempfile::TempDir,
}

const INPUT: &str = r#"{"error": "quota_exhausted", "error_description": "Daily quota exhausted for project acme"}"#;

fn rule(id: &str, confidence: f64) -> String {
    format!(
        r#"[[rule]]
id = "{id}"
title = "Quota exhausted"
severity = "error"
confidence = {confidence}
when = {{ error = "quota_exhausted", message = {{ regex = '(?i)(?P<period>daily|monthly) quota exhausted' }} }}
cause = "The {{period}} quota is used up."
fix = "Wait for the quota to reset, or raise it."
supersedes = ["acme.old-quota"]
docs = ["https://example.com/quota"]

[[rule.example]]
input = '''{{"error": "quota_exhausted", "error_description": "Monthly quota exhausted"}}'''
matches = true

[[rule.example]]
input = '''{{"error": "quota_exhausted", "error_description": "Request rate too high"}}'''
matches = false
"#
    )
}

impl Sandbox {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let s = Sandbox { root };
        // Clean files; a duplicate id across two of them (each clean alone),
        // a `supersedes` naming no rule, and a file with a problem of its own.
        s.write("rules/a.toml", &rule("acme.quota", 0.7));
        s.write("rules/b.toml", &rule("acme.quota", 0.6));
        s.write(
            "rules/c.toml",
            &rule("acme.monthly", 0.5).replace("acme.old-quota", "acme.quota-typo"),
        );
        s.write(
            "rules/d.toml",
            &rule("acme.broken", 0.5).replace("(?i)", "(?i)(unclosed"),
        );
        s.write("input.json", INPUT);
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn cache_dir(&self) -> PathBuf {
        self.path("cache/faultline/rules")
    }

    fn entries(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.cache_dir()) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).collect();
        out.sort();
        out
    }

    /// faultline in the sandbox, with its own home, config and cache, and
    /// no rules or cache settings from the environment.
    fn faultline(&self) -> Command {
        let mut cmd = Command::cargo_bin("faultline").unwrap();
        cmd.current_dir(self.root.path())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env_remove("FAULTLINE_RULES")
            .env_remove("FAULTLINE_NO_CACHE")
            .env("NO_COLOR", "1");
        cmd
    }

    /// (exit status, stdout, stderr) of an analysis with the rules.
    fn run(&self, extra: &[&str]) -> (i32, String, String) {
        let out = self
            .faultline()
            .args(["--rules", "rules", "--format", "json"])
            .args(extra)
            .arg("input.json")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

/// `faultline explain --full acme.monthly` (which shows the rule's
/// examples) with the rules.
fn explain(s: &Sandbox, extra: &[&str]) -> (i32, String, String) {
    let out = s
        .faultline()
        .args(["--rules", "rules", "explain", "--full", "acme.monthly"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// An analysis reads entries without their examples; `explain` still
/// shows them from the same entries.
#[test]
fn explain_shows_examples_from_the_cache() {
    let s = Sandbox::new();
    let uncached = explain(&s, &["--no-cache"]);
    assert!(
        uncached.1.contains("Monthly quota exhausted"),
        "{}",
        uncached.1
    );
    s.run(&[]);
    assert_eq!(s.entries().len(), 3);
    assert_same(&explain(&s, &[]), &uncached);
}

fn assert_same(a: &(i32, String, String), b: &(i32, String, String)) {
    assert_eq!(a.0, b.0, "exit status");
    assert_eq!(a.1, b.1, "report");
    assert_eq!(a.2, b.2, "rule problems");
}

#[test]
fn a_hit_reports_what_a_miss_does() {
    let s = Sandbox::new();
    let uncached = s.run(&["--no-cache"]);
    assert!(s.entries().is_empty(), "--no-cache writes nothing");
    // The analysis ran with the user's rules, and the problems were found.
    assert!(uncached.1.contains("acme.quota"), "{}", uncached.1);
    for problem in ["duplicate rule id", "acme.quota-typo", "d.toml"] {
        assert!(uncached.2.contains(problem), "{problem}: {}", uncached.2);
    }
    let miss = s.run(&[]);
    assert_same(&miss, &uncached);
    // The three clean files, not the one with a problem.
    assert_eq!(s.entries().len(), 3, "{:?}", s.entries());
    let hit = s.run(&[]);
    assert_same(&hit, &uncached);
    // The environment turns it off too.
    std::fs::remove_dir_all(s.cache_dir()).unwrap();
    let out = Command::cargo_bin("faultline")
        .unwrap()
        .current_dir(s.root.path())
        .env("HOME", s.path("home"))
        .env("XDG_CACHE_HOME", s.path("cache"))
        .env("FAULTLINE_NO_CACHE", "1")
        .args(["--rules", "rules", "input.json"])
        .output()
        .unwrap();
    assert!(!out.stdout.is_empty());
    assert!(s.entries().is_empty(), "FAULTLINE_NO_CACHE writes nothing");
}

#[test]
fn an_edited_file_is_read_afresh() {
    let s = Sandbox::new();
    let first = s.run(&[]);
    assert!(first.1.contains("\"confidence\": 0.7") || first.1.contains("0.7"));
    s.write("rules/a.toml", &rule("acme.quota", 0.9));
    let edited = s.run(&[]);
    assert_same(&edited, &s.run(&["--no-cache"]));
    assert_ne!(first.1, edited.1, "the edit shows");
}

/// Files changed more than 3 s ago have stamps that prove their entries
/// alone (younger ones are racy, their entries hold the text): such a file
/// is left unread on a hit, and read only for a problem between files,
/// which must still show its place in both files.
#[test]
fn a_hit_on_files_proven_by_their_stamps_reports_what_a_miss_does() {
    let s = Sandbox::new();
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let uncached = s.run(&["--no-cache"]);
    assert_same(&s.run(&[]), &uncached);
    assert_eq!(s.entries().len(), 3);
    let hit = s.run(&[]);
    assert_same(&hit, &uncached);
    for place in ["a.toml:2", "b.toml:2", "c.toml:"] {
        assert!(hit.2.contains(place), "{place}: {}", hit.2);
    }
    // Edited since: read afresh.
    s.write("rules/a.toml", &rule("acme.quota", 0.9));
    assert_same(&s.run(&[]), &s.run(&["--no-cache"]));
}

/// An entry is trusted on the file's stamp (size, times, inode): whatever
/// changes the file, even to the same size or back to the same time, is
/// read afresh, and a file only touched gives the same report.
#[test]
fn a_changed_file_is_read_afresh_whatever_its_size_and_time() {
    let s = Sandbox::new();
    let first = s.run(&[]);
    assert_eq!(s.entries().len(), 3);
    assert_same(&s.run(&[]), &first);
    let a = s.path("rules/a.toml");
    let mtime = std::fs::metadata(&a).unwrap().modified().unwrap();
    // Edited to the same size within the same second (its time set back).
    let same_size = rule("acme.quota", 0.9);
    assert_eq!(same_size.len(), rule("acme.quota", 0.7).len());
    std::fs::write(&a, &same_size).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let edited = s.run(&[]);
    assert_same(&edited, &s.run(&["--no-cache"]));
    assert_ne!(edited.1, first.1, "the edit shows");
    // Replaced by another file of the same size (another inode).
    let other = s.path("a.toml.new");
    std::fs::write(&other, rule("acme.quota", 0.5)).unwrap();
    std::fs::rename(&other, &a).unwrap();
    let replaced = s.run(&[]);
    assert_same(&replaced, &s.run(&["--no-cache"]));
    assert_ne!(replaced.1, edited.1, "the replacement shows");
    // Touched, not changed: the same report, from a fresh entry.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_same(&s.run(&[]), &replaced);
    assert_same(&s.run(&[]), &replaced);
    assert_eq!(
        s.entries().len(),
        3,
        "one entry per file, replaced in place"
    );
}

#[test]
fn a_corrupt_cache_is_ignored_and_rebuilt() {
    let s = Sandbox::new();
    let uncached = s.run(&["--no-cache"]);
    s.run(&[]);
    let entries = s.entries();
    assert_eq!(entries.len(), 3);
    for (i, entry) in entries.iter().enumerate() {
        let mut bytes = std::fs::read(entry).unwrap();
        match i {
            0 => bytes.truncate(bytes.len() / 3),
            1 => bytes.iter_mut().skip(8).step_by(7).for_each(|b| *b ^= 0x5a),
            _ => bytes = b"not an entry at all".to_vec(),
        }
        std::fs::write(entry, bytes).unwrap();
    }
    assert_same(&s.run(&[]), &uncached);
    // Written again: the next run reads them.
    let sizes = |v: &[PathBuf]| -> Vec<u64> {
        v.iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect()
    };
    assert!(sizes(&s.entries()).iter().all(|&n| n > 100), "rebuilt");
    assert_same(&s.run(&[]), &uncached);
}

/// Plants, under the entry name of `rules/a.toml` as it is, the rules of
/// another text (confidence 0.1): what a forged entry would do.
fn plant(s: &Sandbox, dir: &Path) {
    use faultline::rules::load::validate::{FileLoader, Parsed};
    use faultline::rules::load::{Cache, RuleSource};
    let mut real = RuleSource::read(&s.path("rules/a.toml")).unwrap();
    // As the command line names it (`--rules rules`).
    real.name = "rules/a.toml".into();
    let forged = RuleSource::new("rules/a.toml", rule("acme.quota", 0.1), false);
    let mut file = FileLoader::new(&forged);
    let Parsed::Rules(rules) = file.parse() else {
        panic!("a rule file")
    };
    let cache = Cache::open_unchecked(dir);
    cache.put(&real, &rules);
}

#[cfg(unix)]
#[test]
fn a_cache_anyone_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    let uncached = s.run(&["--no-cache"]);
    let dir = s.cache_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let set = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // In the user's own cache, a planted entry is read (which is why the
    // cache must be the user's alone): the report changes.
    set(&dir, 0o700);
    plant(&s, &dir);
    let planted = s.run(&[]);
    assert_ne!(planted.1, uncached.1, "the planted entry was read");
    // Open to everyone, the same entry is not read, and nothing is written.
    for entry in s.entries() {
        std::fs::remove_file(entry).unwrap();
    }
    set(&dir, 0o777);
    plant(&s, &dir);
    assert_eq!(s.entries().len(), 1);
    assert_same(&s.run(&[]), &uncached);
    assert_eq!(s.entries().len(), 1, "nothing written there");
    // The same for its `faultline` parent.
    set(&dir, 0o700);
    set(dir.parent().unwrap(), 0o777);
    assert_same(&s.run(&[]), &uncached);
    // And for an entry anyone can write, in a private directory.
    set(dir.parent().unwrap(), 0o700);
    set(&s.entries()[0], 0o666);
    assert_same(&s.run(&[]), &uncached);
}
