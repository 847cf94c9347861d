//! `faultline rules …` and `faultline explain`: rule discovery, listing,
//! checking and testing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use faultline::rules::load::{self, rule_files, RuleProblem, RuleSource};
use faultline::rules::selftest::run_examples;
use faultline::rules::{Rule, RuleSet};
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::RuleArgs;

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the loaded rules.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Output format: text or json.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Print one rule in full.
    Show {
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Validate rule files: every problem in every file, with spans.
    Check {
        /// Rule files or directories (default: the discovered user rules).
        paths: Vec<PathBuf>,
    },
    /// Run rules' examples: positives must match, negatives must not.
    Test {
        /// Rule files or directories (default: the discovered user rules).
        paths: Vec<PathBuf>,
    },
}

/// User rule locations, lowest precedence first: the user config dir, the
/// nearest `.faultline/rules`, `FAULTLINE_RULES`, then `--rules`.
pub fn discover(args: &RuleArgs) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(dir) = config.map(|c| c.join("faultline").join("rules")) {
        if dir.is_dir() {
            dirs.push(dir);
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(dir) = cwd.ancestors().map(|a| a.join(".faultline").join("rules")).find(|d| d.is_dir()) {
            dirs.push(dir);
        }
    }
    if let Some(list) = std::env::var_os("FAULTLINE_RULES") {
        dirs.extend(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs.extend(args.dirs.iter().cloned());
    dirs
}

fn read_sources(paths: &[PathBuf], problems: &mut Vec<String>) -> Vec<RuleSource> {
    let mut out = Vec::new();
    for path in paths {
        if !path.exists() {
            problems.push(format!("rules path {} does not exist", path.display()));
            continue;
        }
        for file in rule_files(path) {
            match RuleSource::read(&file) {
                Ok(s) => out.push(s),
                Err(e) => problems.push(format!("cannot read rule file {}: {e}", file.display())),
            }
        }
    }
    out
}

/// Built-in plus user rules. Problems are returned (to print and turn into
/// exit code 2); the valid rules load regardless.
pub fn load_rules(args: &RuleArgs) -> (RuleSet, Vec<RuleProblem>) {
    let mut sources = if args.no_builtin { Vec::new() } else { faultline::rules::builtin_sources() };
    if args.no_builtin {
        // Provider data is not a rule: keep host and region detection.
        sources.extend(faultline::rules::builtin_sources().into_iter().filter(|s| s.name.ends_with("providers.toml")));
    }
    let mut io_problems = Vec::new();
    sources.extend(read_sources(&discover(args), &mut io_problems));
    for p in &io_problems {
        eprintln!("faultline: {p}");
    }
    let report = load::load(&sources);
    let mut problems = report.problems;
    if !io_problems.is_empty() && problems.is_empty() {
        // Make the exit code reflect unreadable rule paths too.
        problems.extend(std::iter::empty());
    }
    let set = RuleSet::new(report.rules, report.providers);
    if !io_problems.is_empty() {
        std::process::exit(2);
    }
    (set, problems)
}

pub fn print_problems(problems: &[RuleProblem]) {
    if problems.is_empty() {
        return;
    }
    let handler = handler();
    for p in problems {
        let mut out = String::new();
        let _ = handler.render_report(&mut out, p);
        eprint!("{out}");
    }
    let files: std::collections::BTreeSet<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    eprintln!(
        "faultline: {} problem(s) in {} rule file(s); the valid rules were loaded",
        problems.len(),
        files.len()
    );
}

fn handler() -> GraphicalReportHandler {
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false)
}

pub fn run(command: RulesCommand) -> ExitCode {
    match command {
        RulesCommand::List { rules, format } => list(&rules, &format),
        RulesCommand::Show { id, rules } => explain(&id, &rules),
        RulesCommand::Check { paths } => check(&paths),
        RulesCommand::Test { paths } => test(&paths),
    }
}

fn list(args: &RuleArgs, format: &str) -> ExitCode {
    let (set, problems) = load_rules(args);
    print_problems(&problems);
    if format == "json" {
        let rows: Vec<serde_json::Value> = set
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "title": r.title, "severity": r.severity.as_str(),
                    "confidence": r.confidence, "provider": r.provider,
                    "file": r.origin.file, "builtin": r.origin.builtin,
                    "overrides_builtin": r.origin.overrides_builtin,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap());
    } else {
        for r in &set.rules {
            let origin = if r.origin.overrides_builtin {
                "user, overrides built-in"
            } else if r.origin.builtin {
                "built-in"
            } else {
                "user"
            };
            println!(
                "{:<44} {:<7} {:<8} {}:{} ({origin})",
                r.id,
                r.severity.as_str(),
                r.provider.as_deref().unwrap_or("-"),
                r.origin.file,
                r.origin.line
            );
        }
        println!("{} rules", set.rules.len());
    }
    if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

/// Finds rules by id, or by an error code they test for.
fn find<'a>(set: &'a RuleSet, code: &str) -> Vec<&'a Rule> {
    if let Some(r) = set.get(code) {
        return vec![r];
    }
    let needle = code.to_ascii_lowercase();
    set.rules
        .iter()
        .filter(|r| {
            r.when.iter().chain(r.any.iter().flatten()).any(|c| {
                c.source_text.to_ascii_lowercase().contains(&format!("\"{needle}\""))
                    || c.source_text.to_ascii_lowercase().contains(&format!("'{needle}'"))
            })
        })
        .collect()
}

pub fn explain(code: &str, args: &RuleArgs) -> ExitCode {
    let (set, problems) = load_rules(args);
    print_problems(&problems);
    let found = find(&set, code);
    if found.is_empty() {
        let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        eprintln!("faultline: no rule `{code}`");
        if let Some(hint) = load::did_you_mean(code, &ids) {
            eprintln!("  {hint}");
        }
        return ExitCode::from(2);
    }
    for (i, rule) in found.iter().enumerate() {
        if i > 0 {
            println!("\n{}\n", "─".repeat(60));
        }
        print!("{}", faultline::rules::explain::render(rule));
    }
    ExitCode::SUCCESS
}

fn paths_or_discovered(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        discover(&RuleArgs { dirs: Vec::new(), no_builtin: true })
    } else {
        paths.to_vec()
    }
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let mut io = Vec::new();
    let paths = paths_or_discovered(paths);
    let sources = read_sources(&paths, &mut io);
    for p in &io {
        eprintln!("faultline: {p}");
    }
    let mut all = faultline::rules::builtin_sources();
    let user_start = all.len();
    all.extend(sources);
    let report = load::load(&all);
    let problems: Vec<RuleProblem> = report
        .problems
        .into_iter()
        .filter(|p| all[user_start..].iter().any(|s| s.name == p.file))
        .collect();
    print_problems(&problems);
    let user_rules = report.rules.iter().filter(|r| !r.origin.builtin).count();
    let files = all.len() - user_start;
    if problems.is_empty() && io.is_empty() {
        println!("faultline: {user_rules} rule(s) in {files} file(s): no problems");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn test(paths: &[PathBuf]) -> ExitCode {
    let paths = paths_or_discovered(paths);
    let mut io = Vec::new();
    let sources = read_sources(&paths, &mut io);
    let mut all = faultline::rules::builtin_sources();
    let user_start = all.len();
    all.extend(sources);
    let report = load::load(&all);
    let problems: Vec<RuleProblem> = report
        .problems
        .into_iter()
        .filter(|p| all[user_start..].iter().any(|s| s.name == p.file))
        .collect();
    print_problems(&problems);
    let user: Vec<Rule> = report.rules.into_iter().filter(|r| !r.origin.builtin).collect();
    let results = run_examples(&user, &report.providers);
    let code = print_results(&results);
    if !problems.is_empty() || !io.is_empty() {
        return ExitCode::from(2);
    }
    code
}

pub fn print_results(results: &[faultline::rules::selftest::ExampleResult]) -> ExitCode {
    let mut current = "";
    let mut line = String::new();
    for r in results {
        if r.rule.id != current {
            if !line.is_empty() {
                println!("{line}");
            }
            current = &r.rule.id;
            line = format!("{:<48} ", r.rule.id);
        }
        line.push(match (r.passed(), r.expected) {
            (true, true) => 'M',
            (true, false) => 'n',
            (false, true) => 'F',
            (false, false) => 'X',
        });
    }
    if !line.is_empty() {
        println!("{line}");
    }
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    for f in &failed {
        let ex = &f.rule.examples[f.index];
        println!(
            "\nFAIL {} — {} ({}:{}): expected {}, but it {}",
            f.rule.id,
            f.name(),
            f.rule.origin.file,
            ex.line,
            if f.expected { "a match" } else { "no match" },
            if f.fired { "matched" } else { "did not match" }
        );
        for l in &f.explanation {
            println!("    {l}");
        }
    }
    let passed = results.len() - failed.len();
    println!("\n{passed} passed, {} failed", failed.len());
    println!("(M: positive example matched, n: negative example did not match, F: positive missed, X: negative matched)");
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

#[allow(dead_code)]
fn unused(_: &Path) {}
