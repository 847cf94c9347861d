//! Where user rules come from, in order of precedence (lowest first): the
//! user's config dir, the nearest project `.faultline/rules`,
//! `FAULTLINE_RULES`, then `--rules`. A rule in a later place replaces one
//! with the same id from an earlier place (or a built-in rule).
//!
//! Discovered places are trusted only when they are safe: the search for
//! `.faultline/rules` stops at the repository root (the nearest directory
//! with `.git`), and a discovered directory owned by another user, or
//! writable by everyone, is refused, as git refuses a repository another
//! user owns. Places named explicitly (`FAULTLINE_RULES`, `--rules`) are
//! the user's own choice and are not second-guessed. Every file is read at
//! most once; symlinks are followed, and a special file (a FIFO, a device),
//! an unreadable directory or a symlink loop is reported, never skipped
//! without a word.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use faultline::report::{Override, RuleDir};
use faultline::rules::load::{self, RuleProblem, RuleSource};
use faultline::rules::{Rule, RuleSet};

use super::GlobalArgs;

/// Where a rules path came from; the order is the precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Config = 1,
    Project = 2,
    Env = 3,
    Flag = 4,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Config => "config",
            Layer::Project => "project",
            Layer::Env => "FAULTLINE_RULES",
            Layer::Flag => "--rules",
        }
    }

    /// Found by looking around rather than named by the user: checked for
    /// ownership and permissions before use.
    fn discovered(self) -> bool {
        matches!(self, Layer::Config | Layer::Project)
    }
}

/// A user rules path and where it came from.
#[derive(Debug, Clone)]
pub struct RulesPath {
    pub path: PathBuf,
    pub layer: Layer,
}

/// The user's config directory for faultline rules.
pub fn config_rules_dir() -> Option<PathBuf> {
    load::xdg_rules_dir("XDG_CONFIG_HOME", ".config")
}

/// The nearest `.faultline/rules` from `start` upwards, not above the
/// repository root (the nearest directory holding `.git`).
pub fn project_rules_dir(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(".faultline").join("rules");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// User rules paths, lowest precedence first; the same directory once.
/// Unsafe discovered directories are left out, with a problem each.
pub fn discover(args: &GlobalArgs, problems: &mut Vec<RuleProblem>) -> Vec<RulesPath> {
    let mut paths: Vec<RulesPath> = Vec::new();
    if let Some(dir) = config_rules_dir().filter(|d| d.is_dir()) {
        paths.push(RulesPath {
            path: dir,
            layer: Layer::Config,
        });
    }
    if let Some(dir) = std::env::current_dir()
        .ok()
        .and_then(|cwd| project_rules_dir(&cwd))
    {
        paths.push(RulesPath {
            path: dir,
            layer: Layer::Project,
        });
    }
    if let Some(list) = std::env::var_os("FAULTLINE_RULES") {
        paths.extend(
            std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|path| RulesPath {
                    path,
                    layer: Layer::Env,
                }),
        );
    }
    paths.extend(args.rules.iter().map(|d| RulesPath {
        path: d.clone(),
        layer: Layer::Flag,
    }));
    // The same place named twice counts once, at its highest precedence.
    let mut seen = HashSet::new();
    let mut unique: Vec<RulesPath> = Vec::new();
    for p in paths.into_iter().rev() {
        if seen.insert(std::fs::canonicalize(&p.path).unwrap_or_else(|_| p.path.clone())) {
            unique.push(p);
        }
    }
    unique.reverse();
    unique.retain(|p| {
        if !p.layer.discovered() {
            return true;
        }
        match unsafe_reason(&p.path) {
            None => true,
            Some(why) => {
                problems.push(refused(&p.path, p.layer, &why));
                false
            }
        }
    });
    unique
}

fn refused(path: &Path, layer: Layer, why: &str) -> RuleProblem {
    let name = path.display().to_string();
    let mut p = RuleProblem::unreadable(
        &name,
        format!(
            "refusing the {} rules directory `{name}`: {why}",
            match layer {
                Layer::Config => "config",
                _ => "project",
            }
        ),
    );
    p.code = "rule::unsafe-directory".into();
    p.help = Some(format!(
        "rules found by looking around must belong to you (or root) and not be writable by everyone, \
         since they change what faultline reports; if you trust them, name them: `--rules {}`",
        faultline::report::shell_quote(&name)
    ));
    p
}

/// Why a discovered rules directory must not be used, if it must not: it,
/// or the `.faultline` directory holding it, belongs to another user or can
/// be written by anyone.
#[cfg(unix)]
pub fn unsafe_reason(dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mut check: Vec<&Path> = vec![dir];
    if let Some(parent) = dir.parent().filter(|p| p.ends_with(".faultline")) {
        check.push(parent);
    }
    for path in check {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let owner = meta.uid();
        if owner != me && owner != 0 {
            return Some(format!(
                "`{}` belongs to another user (uid {owner})",
                path.display()
            ));
        }
        if meta.mode() & 0o002 != 0 {
            return Some(format!("`{}` is writable by everyone", path.display()));
        }
    }
    None
}

#[cfg(not(unix))]
pub fn unsafe_reason(_dir: &Path) -> Option<String> {
    None
}

/// The rule files under `path` (a file or a directory, recursively, sorted),
/// each once across calls (`seen` holds canonical paths, hashed: a sorted set
/// compared them component by component, 0.8 M instructions for 89 files).
/// Whatever cannot be used is a problem: a missing path, an unreadable
/// directory, a special file, a symlink loop.
fn rule_files(
    path: &Path,
    seen: &mut HashSet<PathBuf>,
    problems: &mut Vec<RuleProblem>,
) -> Vec<PathBuf> {
    let name = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(RuleProblem::unreadable(
                &name,
                format!("rules path `{name}` does not exist"),
            ));
            return Vec::new();
        }
        Err(e) => {
            problems.push(RuleProblem::unreadable(
                &name,
                format!("cannot read rules path `{name}`: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut files = Vec::new();
    // Each file's canonical path, to count it once. Under the directory's
    // canonical path, a file reached through no symlink is that path joined
    // with its name: one `canonicalize` for the directory rather than one
    // per file (each several system calls).
    let mut canonical = Vec::new();
    if meta.is_file() {
        files.push(path.to_path_buf());
        canonical.push(canonical_or_same(path));
    } else if meta.is_dir() {
        let root = canonical_or_same(path);
        // Whether the directory at each depth was reached through a
        // symlink (walkdir gives a directory before its contents).
        let mut linked: Vec<bool> = Vec::new();
        // By name, compared as whole paths: siblings' paths are their
        // directory's joined with their names, so the order is the names'
        // (`sort_by_file_name` found each name anew at every comparison, a
        // tenth of a start's reading of a directory of rule files).
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()));
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_dir() => {
                    let depth = e.depth();
                    let through_link =
                        depth > 0 && (e.path_is_symlink() || parent_linked(&linked, depth));
                    linked.truncate(depth);
                    linked.push(through_link);
                }
                Ok(e) if e.path().extension().is_none_or(|x| x != "toml") => {}
                Ok(e) if e.file_type().is_file() => {
                    let through_link = e.path_is_symlink() || parent_linked(&linked, e.depth());
                    let file = e.into_path();
                    canonical.push(match file.strip_prefix(path) {
                        Ok(rest) if !through_link => root.join(rest),
                        _ => canonical_or_same(&file),
                    });
                    files.push(file);
                }
                Ok(e) => {
                    let file = e.path().display().to_string();
                    problems.push(RuleProblem::unreadable(
                        &file,
                        format!(
                            "`{file}` is not a regular file (a FIFO, socket or device); skipped"
                        ),
                    ));
                }
                Err(err) => {
                    let at = err
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| name.clone());
                    let why = if err.loop_ancestor().is_some() {
                        "a symlink loop".to_string()
                    } else {
                        err.io_error()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| err.to_string())
                    };
                    problems.push(RuleProblem::unreadable(
                        &at,
                        format!("cannot read rules under `{at}`: {why}; skipped"),
                    ));
                }
            }
        }
    } else {
        problems.push(RuleProblem::unreadable(
            &name,
            format!(
                "rules path `{name}` is neither a file nor a directory (a FIFO, socket or device)"
            ),
        ));
    }
    files
        .into_iter()
        .zip(canonical)
        .filter_map(|(file, canonical)| seen.insert(canonical).then_some(file))
        .collect()
}

/// Whether the directory holding an entry at `depth` was reached through a
/// symlink; if unknown, taken as so (its files are then canonicalized).
fn parent_linked(linked: &[bool], depth: usize) -> bool {
    depth
        .checked_sub(1)
        .and_then(|d| linked.get(d))
        .copied()
        .unwrap_or(true)
}

fn canonical_or_same(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads the rule files under `paths`. Whatever cannot be read is a
/// problem; the other files still load.
pub fn read_sources(paths: &[RulesPath], problems: &mut Vec<RuleProblem>) -> Vec<RuleSource> {
    read_sources_unless_proven(paths, problems, |_, _| false)
}

/// [`read_sources`], leaving unread the files whose stamp `proven` accepts
/// (see [`RuleSource::read_unless_proven`]).
fn read_sources_unless_proven(
    paths: &[RulesPath],
    problems: &mut Vec<RuleProblem>,
    proven: impl Fn(&str, &load::FileStamp) -> bool,
) -> Vec<RuleSource> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in paths {
        for file in rule_files(&p.path, &mut seen, problems) {
            match RuleSource::read_unless_proven(&file, &proven) {
                Ok(mut s) => {
                    s.layer = p.layer as u8;
                    out.push(s);
                }
                Err(e) => {
                    let file = file.display().to_string();
                    problems.push(RuleProblem::unreadable(
                        &file,
                        format!("cannot read rule file `{file}`: {e}"),
                    ));
                }
            }
        }
    }
    out
}

/// Built-in plus user rules, the paths they came from, and every problem
/// (unsafe or unreadable paths, invalid rule files); every valid rule loads.
pub struct Loaded {
    pub set: RuleSet,
    pub paths: Vec<RulesPath>,
    pub problems: Vec<RuleProblem>,
}

pub fn load_rules(args: &GlobalArgs) -> Loaded {
    load_rules_for(args, false)
}

/// [`load_rules`], with the user rules' examples (which an analysis does
/// not read, and the cache gives only when asked for).
pub fn load_rules_with_examples(args: &GlobalArgs) -> Loaded {
    load_rules_for(args, true)
}

fn load_rules_for(args: &GlobalArgs, examples: bool) -> Loaded {
    let mut problems = Vec::new();
    let paths = discover(args, &mut problems);
    // Opened when the first rule file is found: a file its cache entry
    // proves is not read (its rules come from the entry).
    let cache = std::cell::OnceCell::new();
    let open_cache = || {
        (!args.no_cache)
            .then(load::Cache::default_dir)
            .flatten()
            .and_then(|dir| load::Cache::open(&dir))
    };
    let sources = read_sources_unless_proven(&paths, &mut problems, |name, stamp| {
        cache
            .get_or_init(open_cache)
            .as_ref()
            .is_some_and(|c| c.proves(name, stamp))
    });
    // The built-in pack was validated at build time: it is only read here.
    // Clean user files were validated on an earlier run, if cached.
    let cache = (!sources.is_empty())
        .then(|| cache.get_or_init(open_cache).clone())
        .flatten()
        .map(|cache| {
            if examples {
                cache.with_examples()
            } else {
                cache
            }
        });
    // The rules and their index live until the process ends: their
    // thousands of allocations are cut from one block (see `arena`).
    let bumping = crate::arena::Bumping::start();
    let report = load::load_over_builtin_cached(&sources, !args.no_builtin, cache.as_ref());
    problems.extend(report.problems);
    let set = RuleSet::new(report.rules, report.providers);
    drop(bumping);
    Loaded {
        set,
        paths,
        problems,
    }
}

/// Which rules path a rule file lies under.
fn path_of<'a>(paths: &'a [RulesPath], file: &str) -> Option<&'a RulesPath> {
    let file = Path::new(file);
    paths
        .iter()
        .rev()
        .find(|p| file == p.path || file.starts_with(&p.path))
}

/// Per user rules path: how many rules loaded and which they replace.
pub fn rule_dirs(paths: &[RulesPath], rules: &[Rule]) -> Vec<RuleDir> {
    // Counted per owning path (by place), each user rule's path found once
    // per file (a file's rules are consecutive and share one name):
    // comparing path components per rule and path took a tenth of a
    // start-up with thousands of rules, and a list of the rules per path
    // most of the rest.
    let mut counts = vec![0; paths.len()];
    let mut overrides: Vec<Vec<Override>> = vec![Vec::new(); paths.len()];
    let mut last: Option<(&str, Option<usize>)> = None;
    for r in rules.iter().filter(|r| !r.origin.builtin) {
        let file = &*r.origin.file;
        let owner = match last {
            Some((f, owner)) if std::ptr::eq(f, file) || f == file => owner,
            _ => path_of(paths, file).and_then(|q| paths.iter().position(|p| std::ptr::eq(p, q))),
        };
        last = Some((file, owner));
        let Some(owner) = owner else {
            continue;
        };
        counts[owner] += 1;
        if let Some(replaced) = &r.origin.overrides {
            overrides[owner].push(Override {
                id: r.id.clone(),
                replaces: if is_builtin_file(replaced) {
                    "built-in".to_string()
                } else {
                    replaced.to_string()
                },
            });
        }
    }
    paths
        .iter()
        .map(|p| {
            // A path given twice owns its rules at its last place (see
            // `path_of`), and both list them.
            let owner = paths
                .iter()
                .rposition(|q| q.path == p.path && q.layer == p.layer)
                .expect("the path itself");
            RuleDir {
                path: p.path.display().to_string(),
                from: p.layer.name().to_string(),
                rules: counts[owner],
                overrides: overrides[owner].clone(),
            }
        })
        .collect()
}

/// `user` / `built-in` / `project, overrides built-in` … for listings.
pub fn origin(paths: &[RulesPath], r: &Rule) -> String {
    if r.origin.builtin {
        return "built-in".into();
    }
    let layer = path_of(paths, &r.origin.file)
        .map(|p| p.layer.name())
        .unwrap_or("user");
    match &r.origin.overrides {
        None => layer.to_string(),
        Some(_) if r.origin.overrides_builtin && !overrides_user(r) => {
            format!("{layer}, overrides built-in")
        }
        Some(file) => format!("{layer}, overrides {file}"),
    }
}

fn overrides_user(r: &Rule) -> bool {
    r.origin
        .overrides
        .as_ref()
        .is_some_and(|f| !is_builtin_file(f))
}

/// Whether `name` is one of the built-in rule files.
fn is_builtin_file(name: &str) -> bool {
    static NAMES: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            faultline::rules::builtin_sources()
                .into_iter()
                .map(|s| s.name)
                .collect()
        })
        .contains(name)
}
