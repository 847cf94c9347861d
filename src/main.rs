//! The `faultline` command line: argument parsing, rule discovery, exit codes.
//! All analysis lives in the library; this file only wires it up.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use faultline::input::{self, InputSpec};
use faultline::mask::Masker;
use faultline::report::{self, Format, HumanStyle, ReportCtx};
use faultline::rules::Severity;

mod cli_rules;

/// Explains, offline, why an API call failed.
///
/// Feed it what you saved — a log file, a directory of logs, a curl -v
/// transcript, a traceback, or a response body on stdin — and it prints the
/// likely causes, ranked, with the evidence highlighted in your own lines.
#[derive(Parser, Debug)]
#[command(name = "faultline", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// Files or directories to analyse (`-` for stdin; stdin is read when no
    /// path is given and input is piped).
    paths: Vec<PathBuf>,

    #[command(flatten)]
    rules: RuleArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,

    /// Print secrets (tokens, passwords, cookies) instead of masking them.
    #[arg(long)]
    show_secrets: bool,

    /// Colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,

    #[command(subcommand)]
    command: Option<Command>,
}

/// Where rules come from.
#[derive(clap::Args, Debug, Clone)]
pub struct RuleArgs {
    /// Add rules from this directory or file (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,

    /// Use only the user's rules, not the built-in pack.
    #[arg(long)]
    pub no_builtin: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a rule's full text (cause, fix, check, docs, examples).
    Explain {
        /// A rule id (`genesys.missing-permissions`) or an error code it covers (`missing.permissions`).
        code: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Work with rules: list, show, check, test, new, schema, fields.
    Rules {
        #[command(subcommand)]
        command: cli_rules::RulesCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Explain { code, rules }) => cli_rules::explain(&code, &rules),
        Some(Command::Rules { command }) => cli_rules::run(command),
        None => analyze(cli),
    }
}

fn analyze(cli: Cli) -> ExitCode {
    let mut specs: Vec<InputSpec> = cli
        .paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                InputSpec::Stdin
            } else {
                InputSpec::Path(p.clone())
            }
        })
        .collect();
    if specs.is_empty() {
        if input::stdin_is_terminal() {
            eprintln!(
                "faultline: nothing to read.\n\n  faultline run.log            analyse a saved log (or a directory of logs)\n  pbpaste | faultline          analyse a pasted response body or traceback\n  faultline --help             all options"
            );
            return ExitCode::from(2);
        }
        specs.push(InputSpec::Stdin);
    }
    // Problems in rule files or rules paths are reported and turn into exit
    // code 2 at the end; the analysis runs with every rule that loaded.
    let (rule_set, rule_problems) = cli_rules::load_rules(&cli.rules);
    let mut failed = rule_problems.iter().any(|p| p.is_error());
    cli_rules::print_problems(&rule_problems, "the other rules were loaded");

    let (sources, mut problems) = input::expand(&specs);
    let analysis = faultline::analyze(&sources, &rule_set);
    // Patterns are compiled when first needed; one that could not be is a
    // problem of its rule (the other rules ran).
    let late = rule_set.late_problems();
    failed |= !late.is_empty();
    cli_rules::print_problems(&late, "the other rules ran");
    problems.extend(analysis.problems.iter().cloned());
    for p in &problems {
        eprintln!("faultline: cannot read {}: {}", p.name, p.message);
        failed = true;
    }
    let color = match cli.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // Colour means a terminal that wants it: use its width. Otherwise (a pipe,
    // a file, NO_COLOR, --color never) plain and narrow.
    let style = if color {
        HumanStyle {
            color,
            width: terminal_width().unwrap_or(100),
        }
    } else {
        HumanStyle::plain()
    };
    let ctx = ReportCtx {
        analysis: &analysis,
        rules: &rule_set,
        masker: Masker {
            show_secrets: cli.show_secrets,
        },
    };
    let out = report::render(cli.format, &ctx, style);
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(out.as_bytes()).is_err() {
        return ExitCode::from(2);
    }
    if failed {
        ExitCode::from(2)
    } else if analysis
        .diagnoses
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The terminal's width from `COLUMNS`, as shells export it; miette's own
/// default applies when it is unknown.
fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()?
        .parse()
        .ok()
        .filter(|w| *w >= 40)
}
