//! The `faultline` command line: the clap definition (shared by the man page
//! and the shell completions), argument checks clap cannot make, and
//! dispatch to one module per command. Analysis itself lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// Writes to stderr, ignoring failure (a closed stderr must not panic).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod analyze;
mod discover;
mod explain;
mod inputs;
mod output;
mod rules;
mod scaffold;
mod stream;

pub use output::ColorChoice;

const EXAMPLES: &str = "\
Examples:
  faultline run.log                      analyse a saved log (or a directory of logs)
  some-command 2>&1 | faultline          analyse what a command printed
  faultline -f short logs/               one line per failing call
  faultline -f jsonl big.log | head      records as the run goes (JSON Lines)
  tail -f app.log | faultline --follow   failing calls as they happen
  faultline -f json -o report.json run.log
  faultline explain invalid_grant        what an error code means and how to fix it
  faultline rules new acme.quota --from run.log:7   a rule from an unexplained failure

Exit status: 0 nothing failing at or above --fail-on, 1 failures found,
2 usage errors, unreadable inputs or invalid rule files.";

/// Explains, offline, why an API call failed.
///
/// Give it what you saved — a log file, a directory of logs, a curl -v
/// transcript, a traceback, or a response body on stdin — and it prints the
/// likely causes, ranked, with the evidence highlighted in your own lines.
#[derive(Parser, Debug)]
#[command(
    name = "faultline",
    version,
    after_help = EXAMPLES,
    max_term_width = 100
)]
pub struct Cli {
    /// Files or directories to analyse (`-` for stdin; stdin is read when
    /// no path is given and input is piped).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    global: GlobalArgs,

    #[command(flatten)]
    report: ReportArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

/// Options every command accepts, before or after its name.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Add rules from this directory or file (repeatable).
    #[arg(long = "rules", value_name = "PATH", global = true)]
    pub rules: Vec<PathBuf>,

    /// Use only your own rules, not the built-in pack.
    #[arg(long, global = true)]
    pub no_builtin: bool,

    /// Read every user rule file afresh, without the cache of validated
    /// rules (also: FAULTLINE_NO_CACHE=1).
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// Output format. Analysis: human, json, short, jsonl, incidents; `rules list`:
    /// text, json; `rules fields`: text, json, markdown.
    #[arg(short = 'f', long, value_name = "FORMAT", global = true)]
    pub format: Option<String>,

    /// Colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: ColorChoice,

    /// Write the output to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,

    /// Less output: -q drops the summary and notes, -qq prints nothing
    /// (only the exit status tells).
    #[arg(short = 'q', long, action = clap::ArgAction::Count, global = true)]
    pub quiet: u8,

    /// More output: every diagnosis in `--format short`, and the binary
    /// files skipped in directories.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,

    /// Lay out for this many columns (default: the terminal's width; 80
    /// when not a terminal).
    #[arg(long, value_name = "COLUMNS", global = true)]
    pub width: Option<usize>,

    /// Print secrets (tokens, passwords, cookies) instead of masking them.
    #[arg(long, global = true)]
    pub show_secrets: bool,

    /// Never page output through $PAGER.
    #[arg(long, global = true)]
    pub no_pager: bool,
}

/// Options of the analysis only.
#[derive(Args, Debug, Clone, Default)]
pub struct ReportArgs {
    /// Causes and fixes only: no "check", "not this" or notes on the input.
    #[arg(long)]
    pub brief: bool,

    /// When to exit with status 1: `error` (default) when a failing call was
    /// found (explained or not; one a retry got past does not count) or an
    /// error-level diagnosis; `warning` also for warnings; `never` to only
    /// report.
    #[arg(long, value_enum, default_value = "error", value_name = "LEVEL")]
    pub fail_on: faultline::outcome::FailOn,

    /// Worker threads for scanning (default: one per core). The report is
    /// the same whatever the number.
    #[arg(long, short = 'j', value_name = "N", env = "FAULTLINE_THREADS")]
    pub threads: Option<usize>,

    /// Keep reading as the input grows (`tail -f app.log | faultline
    /// --follow`, or `faultline --follow app.log`, which reads to the end and
    /// then waits for more) and report each failing call once the input has
    /// been quiet for --follow-gap. Prints `--format short` unless `jsonl`
    /// is asked for; Ctrl-C ends it.
    #[arg(long)]
    pub follow: bool,

    /// With --follow: how long the input must be quiet before what was
    /// written is reported (an exchange still open then is closed), e.g.
    /// 500ms, 2s, 1m.
    #[arg(long, value_name = "DURATION", default_value = stream::DEFAULT_GAP, value_parser = stream::parse_gap, requires = "follow")]
    pub follow_gap: std::time::Duration,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// What a rule, an error code, an HTTP status or a transport error means,
    /// and how to fix it.
    #[command(after_help = "\
Examples:
  faultline explain invalid_grant          an error code (fuzzy: invalid-grant works too)
  faultline explain 429                    an HTTP status
  faultline explain ECONNREFUSED           a transport error
  faultline explain oauth.invalid-client   a rule id
  faultline explain --full missing.permissions   everything, with examples")]
    Explain {
        /// A rule id, an error code, an HTTP status or a transport error.
        #[arg(value_name = "QUERY")]
        query: String,
        /// Everything about each rule: conditions, ranking, examples.
        #[arg(long)]
        full: bool,
    },
    /// Work with rules: list, show, check, test, new, schema, fields.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "\
Install, for example:
  faultline completions bash > ~/.local/share/bash-completion/completions/faultline
  faultline completions zsh > ~/.zfunc/_faultline      (with fpath+=~/.zfunc)
  faultline completions fish > ~/.config/fish/completions/faultline.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `faultline man | man -l -`.
    Man,
    /// Print the JSON Schema of `--format json` reports (docs/report.md).
    ReportSchema,
    /// Write a copy of logs that is safe to share: secrets masked (as in
    /// every report); with --ids also e-mails, IP addresses, GUIDs and user
    /// names, each replaced by a stable placeholder. Lines stay where they
    /// were (docs/security.md).
    Redact {
        /// Files to redact (`-` or none: stdin).
        paths: Vec<std::path::PathBuf>,
        /// Write here instead of stdout (a directory when several files are given).
        #[arg(short, long, value_name = "OUT")]
        output: Option<std::path::PathBuf>,
        /// Also replace e-mails, IP addresses, GUIDs and user names.
        #[arg(long)]
        ids: bool,
    },
}

/// Words that look like a request for a format flag that does not exist.
const FORMAT_WORDS: &[&str] = &[
    "json",
    "jsonl",
    "short",
    "human",
    "incidents",
    "text",
    "markdown",
];

pub fn main() -> ExitCode {
    tune_allocator();
    install_panic_hook();
    // Lets the test suite check the hook without a real bug to trigger it.
    if let Some(text) = std::env::var_os("FAULTLINE_TEST_PANIC") {
        panic!("test panic quoting its input: {}", text.to_string_lossy());
    }
    PROCESS_ENDS_AFTER_RUN.store(true, std::sync::atomic::Ordering::Relaxed);
    run(std::env::args_os())
}

/// glibc's malloc maps every block over its mmap threshold (128 KiB) on its
/// own and unmaps it when freed, and hands a freed heap top back to the
/// kernel: the next such block page-faults all over again. Compiling a
/// regex allocates (and fills) a 316 KiB table, and an analysis compiles
/// dozens, so a paste spent a third of its time in the kernel: 2,900 page
/// faults, 15,000 for a 1 MiB log. Padding each heap extension by 16 MiB
/// lets those blocks come from the heap and reuse its pages (the pad is
/// address space, not memory: untouched pages are never resident).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; it is called before any thread
    // starts.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
        // Before any thread allocates (see `ALLOCATOR_ARENAS`).
        libc::mallopt(libc::M_ARENA_MAX, faultline::ALLOCATOR_ARENAS);
    }
}

/// Set by the binary, whose process ends when [`run`] returns: big
/// structures (the loaded rules) are then left to the operating system
/// rather than freed one by one, which took more of a pasted body's run
/// than reading them. The Python package runs [`run`] many times in one
/// process, so it frees them.
static PROCESS_ENDS_AFTER_RUN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Drops `value`, or leaks it when the process is about to end anyway.
pub(crate) fn release<T>(value: T) {
    if PROCESS_ENDS_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// The command line on the given arguments (the first is the program name),
/// without the process-wide panic hook: the Python package (python/) runs it
/// inside the interpreter, where a panic must become an exception rather than
/// end the user's process.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    if let Some(code) = misspelt_command(&cli) {
        return code;
    }
    let global = cli.global.clone();
    match cli.command {
        None => analyze::run(&cli.paths, &global, &cli.report),
        Some(Command::Explain { query, full }) => explain::run(&query, full, &global),
        Some(Command::Rules { command }) => rules::run(command, &global),
        Some(Command::Completions { shell }) => completions(shell, &global),
        Some(Command::Man) => man(&global),
        Some(Command::ReportSchema) => emit(&global, faultline::report::REPORT_SCHEMA),
        Some(Command::Redact { paths, output, ids }) => {
            let options = faultline::redact::Options { ids };
            let problems = faultline::redact::run(&paths, output.as_deref(), &options);
            for p in &problems {
                note!("faultline redact: {}", faultline::report::text::visible(p));
            }
            ExitCode::from(if problems.is_empty() { 0 } else { 2 })
        }
    }
}

/// A bug must not print the input: Rust's default panic message quotes the
/// value it choked on (a whole log line, secrets and all). This one names
/// only the place in faultline's code, and exits 101 as a panic does.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        note!(
            "faultline {}: internal error{place}.\n\
             This is a bug in faultline, not a problem with your input. Please report it\n\
             with this message and the command you ran. If you attach the input, make it\n\
             safe to share first: faultline redact --ids FILE -o FILE.redacted",
            env!("CARGO_PKG_VERSION")
        );
        std::process::exit(101);
    }));
}

/// Prints clap's error, with a tip for `--json`-style flags.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
    {
        let word = arg.trim_start_matches('-');
        if arg.starts_with("--") && FORMAT_WORDS.contains(&word) {
            note!(
                "error: unexpected argument '{arg}' found\n\n  tip: use '--format {word}' (or '-f {word}')\n\nFor more information, try '--help'."
            );
            return ExitCode::from(2);
        }
    }
    let code = if e.use_stderr() { 2 } else { 0 };
    let _ = e.print();
    ExitCode::from(code)
}

/// `faultline expalin x`: the first word is not a file, and looks like a
/// command. Says so, cargo style, instead of "cannot read expalin".
fn misspelt_command(cli: &Cli) -> Option<ExitCode> {
    let first = cli.paths.first()?;
    let word = first.to_str()?;
    if cli.command.is_some() || word == "-" || first.exists() {
        return None;
    }
    // A path-like word (a/b, x.log) is a missing file, said as such later.
    if word.contains(['/', '\\', '.']) || word.is_empty() {
        return None;
    }
    let cmd = Cli::command();
    let mut names: Vec<String> = cmd
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .map(|c| c.get_name().to_string())
        .collect();
    let rules_subs: Vec<String> = cmd
        .find_subcommand("rules")
        .map(|r| {
            r.get_subcommands()
                .filter(|c| c.get_name() != "help")
                .map(|c| c.get_name().to_string())
                .collect()
        })
        .unwrap_or_default();
    let suggestion = if rules_subs.iter().any(|s| s == word) {
        Some(format!("rules {word}"))
    } else {
        names.extend(rules_subs.iter().map(|s| format!("rules {s}")));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        best_match(word, &refs).map(str::to_string)
    }?;
    note!(
        "error: no such command or file: `{}`\n\n  did you mean `{suggestion}`?\n\n  (to analyse a file of that name, write it as `./{}`)",
        faultline::report::text::visible(word),
        faultline::report::text::visible(word)
    );
    Some(ExitCode::from(2))
}

/// The closest candidate, if close enough to be what was meant.
pub fn best_match<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Writes `text` to `--output` or stdout; a closed pipe is not an error.
fn emit(global: &GlobalArgs, text: &str) -> ExitCode {
    emit_with(global, text, ExitCode::SUCCESS)
}

/// [`emit`], then exit with `code` (unless writing failed).
fn emit_with(global: &GlobalArgs, text: &str, code: ExitCode) -> ExitCode {
    let mut out = match open_output(global) {
        Ok(o) => o,
        Err(code) => return code,
    };
    out.write_str(text);
    finish(out, code)
}

/// The output for a command: `--output FILE`, else stdout.
fn open_output(global: &GlobalArgs) -> Result<output::Output, ExitCode> {
    match &global.output {
        Some(path) => output::Output::file(path).map_err(|e| {
            note!("faultline: cannot write {}: {e}", path.display());
            ExitCode::from(2)
        }),
        None => Ok(output::Output::stdout()),
    }
}

/// Closes the output; a write error other than a closed pipe exits 2.
fn finish(out: output::Output, code: ExitCode) -> ExitCode {
    match out.finish() {
        Ok(()) => code,
        Err(message) => {
            note!("faultline: {message}");
            ExitCode::from(2)
        }
    }
}

fn completions(shell: clap_complete::Shell, global: &GlobalArgs) -> ExitCode {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "faultline", &mut buf);
    emit(global, &String::from_utf8_lossy(&buf))
}

/// The man page, from the same clap definition as `--help`.
pub fn man_page() -> String {
    let mut buf = Vec::new();
    let cmd = Cli::command().after_help(EXAMPLES);
    let _ = clap_mangen::Man::new(cmd).render(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn man(global: &GlobalArgs) -> ExitCode {
    emit(global, &man_page())
}

/// The `--format` a command was given, checked against what it accepts.
pub fn format_for(
    global: &GlobalArgs,
    command: &str,
    accepted: &[&str],
    default: &str,
) -> Result<String, ExitCode> {
    let Some(f) = global.format.as_deref() else {
        return Ok(default.to_string());
    };
    let f = f.to_ascii_lowercase();
    if accepted.contains(&f.as_str()) {
        return Ok(f);
    }
    let hint = best_match(&f, accepted)
        .map(|m| format!("\n\n  tip: a similar value exists: '{m}'"))
        .unwrap_or_default();
    note!(
        "error: invalid value '{}' for '--format <FORMAT>'\n  [{command} takes: {}]{hint}\n\nFor more information, try '--help'.",
        faultline::report::text::visible(&f),
        accepted.join(", ")
    );
    Err(ExitCode::from(2))
}
