//! Turns the paths on the command line into sources to analyse: a missing
//! or unreadable path is an error (never a source, never "nothing found");
//! a binary file is skipped with a note, as ripgrep does — said for a file
//! named on the command line, silent inside a directory unless `--verbose`.

use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;

use faultline::input::{self, InputSpec, Origin, SourceRef};
use faultline::report::Problem;

/// How much of a source is looked at to decide it is binary.
const SNIFF: usize = 8 << 10;

/// Why a source is not text faultline can read, if it is not.
fn binary_reason(head: &[u8]) -> Option<String> {
    // A NUL byte marks binary data, as for ripgrep and git; text logs have none.
    let nul = head.iter().position(|&b| b == 0)?;
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Some(
            "UTF-16 text, which faultline does not read; convert it first: iconv -f UTF-16 -t UTF-8"
                .into(),
        );
    }
    Some(format!("binary file (a NUL byte at offset {nul})"))
}

/// The first bytes of a file, decompressed when it is gzip.
fn head_of(source: &SourceRef) -> std::io::Result<Vec<u8>> {
    let reader = input::open(source)?;
    let mut head = Vec::with_capacity(SNIFF);
    reader.take(SNIFF as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The sources to analyse, and the problems found on the way (errors for
/// what cannot be read, notes for what was skipped).
pub struct Inputs {
    pub sources: Vec<SourceRef>,
    pub problems: Vec<Problem>,
    /// Binary files skipped without a note (found in a directory).
    pub skipped_silently: usize,
}

fn problem(severity: &'static str, code: &str, source: &str, message: String) -> Problem {
    Problem {
        kind: "input",
        severity,
        code: code.into(),
        source: source.into(),
        line: None,
        message,
    }
}

pub fn resolve(paths: &[PathBuf], verbose: bool, quiet: bool) -> Inputs {
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            specs.push(InputSpec::Stdin);
            continue;
        }
        let name = p.to_string_lossy().into_owned();
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => specs.push(InputSpec::Path(p.clone())),
            Ok(_) => match std::fs::File::open(p) {
                Ok(_) => specs.push(InputSpec::Path(p.clone())),
                Err(e) => problems.push(problem(
                    "error",
                    "input::unreadable",
                    &name,
                    format!("cannot read {name}: {e}"),
                )),
            },
            Err(e) => problems.push(problem(
                "error",
                "input::unreadable",
                &name,
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!("cannot read {name}: no such file or directory")
                } else {
                    format!("cannot read {name}: {e}")
                },
            )),
        }
    }
    // Each path expanded on its own, to know whether a file was named or
    // found in a directory.
    let mut expanded: Vec<(SourceRef, bool)> = Vec::new();
    for spec in &specs {
        let in_dir = matches!(spec, InputSpec::Path(p) if p.is_dir());
        let (found, walk_problems) = input::expand(std::slice::from_ref(spec));
        expanded.extend(found.into_iter().map(|s| (s, !in_dir)));
        problems.extend(walk_problems.into_iter().map(|p| {
            problem(
                "error",
                "input::unreadable",
                &p.name,
                format!("cannot read {}: {}", p.name, p.message),
            )
        }));
    }
    let mut sources = Vec::new();
    let mut skipped_silently = 0;
    for (source, named) in expanded {
        let head = match &source.origin {
            Origin::Stdin => stdin_head(),
            Origin::File(_) => head_of(&source),
        };
        let head = match head {
            Ok(h) => h,
            Err(e) => {
                problems.push(problem(
                    "error",
                    "input::unreadable",
                    &source.name,
                    format!("cannot read {}: {e}", source.name),
                ));
                continue;
            }
        };
        if let Some(why) = binary_reason(&head) {
            let message = format!("skipping {}: {why}", source.name);
            if (named || verbose) && !quiet {
                note!("faultline: {}", faultline::report::text::visible(&message));
            } else {
                skipped_silently += 1;
            }
            problems.push(problem("note", "input::binary", &source.name, message));
            continue;
        }
        sources.push(source);
    }
    Inputs {
        sources,
        problems,
        skipped_silently,
    }
}

/// What stdin holds so far, without consuming it: stdin's own buffer keeps
/// the bytes for the analysis that reads it next. Compressed input cannot
/// be judged from its first bytes, so it is taken as text.
fn stdin_head() -> std::io::Result<Vec<u8>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        note!(
            "faultline: reading stdin: paste the error, then press Ctrl-D (Ctrl-Z then Enter on Windows)"
        );
        return Ok(Vec::new());
    }
    let mut lock = stdin.lock();
    let buf = lock.fill_buf()?;
    if buf.starts_with(&[0x1f, 0x8b]) {
        return Ok(Vec::new());
    }
    Ok(buf[..buf.len().min(SNIFF)].to_vec())
}
