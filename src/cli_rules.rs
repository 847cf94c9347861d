//! `faultline rules …` and `faultline explain`: rule discovery, listing,
//! showing, checking, testing, scaffolding, and the schema and field
//! references for rule authors.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use faultline::facts::{FIELD_PREFIXES, FIELDS};
use faultline::rules::load::{self, RuleProblem, RuleSource, rule_files};
use faultline::rules::selftest::run_examples;
use faultline::rules::{Rule, RuleSet};
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::RuleArgs;

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the loaded rules: id, severity, provider, where each comes from.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Output format.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Print one rule in full (also: `faultline explain ID`).
    Show {
        /// A rule id, or an error code some rule tests for.
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Validate rule files: every problem in every file, with its place.
    Check {
        /// Rule files or directories (default: the discovered user rules).
        paths: Vec<PathBuf>,
        /// Output format (`json` for CI: `faultline/rules-check@1`).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Run rules' examples: positives must match, negatives must not.
    Test {
        /// Rule files or directories (default: the discovered user rules).
        paths: Vec<PathBuf>,
        /// Test the built-in rule pack instead.
        #[arg(long, conflicts_with = "paths")]
        builtin: bool,
        /// Output format (`json` for CI: `faultline/rules-test@1`).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Create a rule file from a commented template.
    New {
        /// The new rule's id, e.g. `slack.invalid-auth`.
        id: String,
        /// Directory to create it in (default: $XDG_CONFIG_HOME/faultline/rules).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of rule files, for TOML editors (see docs/rules.md).
    Schema,
    /// List the fact fields rules can test, with meanings and example values.
    Fields {
        /// Output format.
        #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown"])]
        format: String,
    },
}

/// The user's config directory for faultline rules.
pub fn config_rules_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|c| c.join("faultline").join("rules"))
}

/// User rule locations, lowest precedence first, each with where it came
/// from: the user config dir, the nearest `.faultline/rules`,
/// `FAULTLINE_RULES`, then `--rules`. The same directory is listed once.
pub fn discover(args: &RuleArgs) -> Vec<(PathBuf, &'static str)> {
    let mut dirs: Vec<(PathBuf, &'static str)> = Vec::new();
    if let Some(dir) = config_rules_dir().filter(|d| d.is_dir()) {
        dirs.push((dir, "config dir"));
    }
    if let Ok(cwd) = std::env::current_dir() {
        let nearest = cwd
            .ancestors()
            .map(|a| a.join(".faultline").join("rules"))
            .find(|d| d.is_dir());
        if let Some(dir) = nearest {
            dirs.push((dir, ".faultline/rules"));
        }
    }
    if let Some(list) = std::env::var_os("FAULTLINE_RULES") {
        dirs.extend(
            std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| (p, "FAULTLINE_RULES")),
        );
    }
    dirs.extend(args.dirs.iter().map(|d| (d.clone(), "--rules")));
    let mut seen = BTreeSet::new();
    dirs.retain(|(d, _)| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())));
    dirs
}

/// Reads the rule files under `paths`. A path that does not exist or a
/// file that cannot be read is a problem; the others still load.
fn read_sources(paths: &[PathBuf], problems: &mut Vec<RuleProblem>) -> Vec<RuleSource> {
    let mut out = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        if !path.exists() {
            problems.push(RuleProblem::unreadable(
                &name,
                format!("rules path `{name}` does not exist"),
            ));
            continue;
        }
        if let Err(e) = std::fs::read_dir(path)
            .map(drop)
            .or_else(|e| if path.is_dir() { Err(e) } else { Ok(()) })
        {
            problems.push(RuleProblem::unreadable(
                &name,
                format!("cannot read rules directory `{name}`: {e}"),
            ));
            continue;
        }
        for file in rule_files(path) {
            match RuleSource::read(&file) {
                Ok(s) => out.push(s),
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

/// Built-in plus user rules. Problems (in rule files, or unreadable rules
/// paths) are returned to print and to turn into exit code 2; every valid
/// rule loads regardless.
pub fn load_rules(args: &RuleArgs) -> (RuleSet, Vec<RuleProblem>) {
    let mut problems = Vec::new();
    let dirs: Vec<PathBuf> = discover(args).into_iter().map(|(d, _)| d).collect();
    let sources = read_sources(&dirs, &mut problems);
    let report = load::load_over_builtin(&sources, !args.no_builtin);
    problems.extend(report.problems);
    (RuleSet::new(report.rules, report.providers), problems)
}

/// Renders problems to stderr, then one summary line (`what` says what
/// happened to the rest, e.g. "the other rules were loaded").
pub fn print_problems(problems: &[RuleProblem], what: &str) {
    if problems.is_empty() {
        return;
    }
    eprint!("{}", render_problems(problems));
    let files: BTreeSet<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    eprintln!(
        "faultline: {} problem{} in {} rule file{}; {what}",
        problems.len(),
        plural(problems.len()),
        files.len(),
        plural(files.len()),
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Problems rendered by miette: colour only when stderr is a terminal and
/// `NO_COLOR` is unset, so piped output and snapshots are plain.
pub fn render_problems(problems: &[RuleProblem]) -> String {
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for p in problems {
        let _ = handler.render_report(&mut out, p);
        out.push('\n');
    }
    out
}

pub fn run(command: RulesCommand) -> ExitCode {
    match command {
        RulesCommand::List { rules, format } => list(&rules, &format),
        RulesCommand::Show { id, rules } => explain(&id, &rules),
        RulesCommand::Check { paths, format } => check(&paths, &format),
        RulesCommand::Test {
            paths,
            builtin,
            format,
        } => test(&paths, builtin, &format),
        RulesCommand::New { id, dir, force } => new(&id, dir, force),
        RulesCommand::Schema => {
            let schema = faultline::rules::schema::schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("a JSON value")
            );
            ExitCode::SUCCESS
        }
        RulesCommand::Fields { format } => fields(&format),
    }
}

fn origin(r: &Rule) -> &'static str {
    if r.origin.overrides_builtin {
        "user, overrides built-in"
    } else if r.origin.builtin {
        "built-in"
    } else {
        "user"
    }
}

fn list(args: &RuleArgs, format: &str) -> ExitCode {
    let (set, problems) = load_rules(args);
    print_problems(&problems, "the other rules are listed");
    if format == "json" {
        let rows: Vec<serde_json::Value> = set
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "title": r.title,
                    "severity": r.severity.as_str(),
                    "confidence": r.confidence,
                    "provider": r.provider,
                    "file": r.origin.file,
                    "line": r.origin.line,
                    "builtin": r.origin.builtin,
                    "overrides_builtin": r.origin.overrides_builtin,
                    "supersedes": r.supersedes,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("a JSON value")
        );
    } else {
        let width = set
            .rules
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        println!(
            "{:<width$}  {:<8} {:<10} {:<25} SOURCE",
            "ID", "SEVERITY", "PROVIDER", "ORIGIN"
        );
        for r in &set.rules {
            println!(
                "{:<width$}  {:<8} {:<10} {:<25} {}:{}",
                r.id,
                r.severity.as_str(),
                r.provider.as_deref().unwrap_or("-"),
                origin(r),
                r.origin.file,
                r.origin.line
            );
        }
        let builtin = set.rules.iter().filter(|r| r.origin.builtin).count();
        let overrides = set
            .rules
            .iter()
            .filter(|r| r.origin.overrides_builtin)
            .count();
        println!(
            "\n{} rules: {builtin} built-in, {} user ({overrides} overriding a built-in rule)",
            set.rules.len(),
            set.rules.len() - builtin,
        );
        let dirs = discover(args);
        if dirs.is_empty() {
            println!("user rules: none found (see `faultline rules new --help`)");
        }
        for (dir, from) in dirs {
            println!("user rules: {} (from {from})", dir.display());
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Finds rules by id, or else by an error code one of their conditions
/// compares with (`missing.permissions`).
fn find<'a>(set: &'a RuleSet, code: &str) -> Vec<&'a Rule> {
    if let Some(r) = set.get(code) {
        return vec![r];
    }
    let needle = code.to_ascii_lowercase();
    set.rules
        .iter()
        .filter(|r| {
            r.when.iter().chain(r.any.iter().flatten()).any(|c| {
                let text = c.source_text.to_ascii_lowercase();
                text.contains(&format!("\"{needle}\"")) || text.contains(&format!("'{needle}'"))
            })
        })
        .collect()
}

pub fn explain(code: &str, args: &RuleArgs) -> ExitCode {
    let (set, problems) = load_rules(args);
    print_problems(&problems, "the other rules were loaded");
    let found = find(&set, code);
    if found.is_empty() {
        let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        eprintln!(
            "faultline: no rule has the id `{code}`, and no rule tests for an error code `{code}`"
        );
        match load::did_you_mean(code, &ids) {
            Some(hint) => eprintln!("  {hint}"),
            None => eprintln!("  see `faultline rules list`"),
        }
        return ExitCode::from(2);
    }
    if found.len() > 1 || found[0].id != code {
        let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
        println!(
            "{} rule{} test{} for `{code}`: {}\n",
            found.len(),
            plural(found.len()),
            if found.len() == 1 { "s" } else { "" },
            ids.join(", ")
        );
    }
    for (i, rule) in found.iter().enumerate() {
        if i > 0 {
            println!("\n{}\n", "─".repeat(60));
        }
        print!("{}", faultline::rules::explain::render(rule, &set.rules));
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// The paths given, or else the discovered user rule directories.
fn paths_or_discovered(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        let args = RuleArgs {
            dirs: Vec::new(),
            no_builtin: true,
        };
        discover(&args).into_iter().map(|(d, _)| d).collect()
    } else {
        paths.to_vec()
    }
}

/// Loads the user files under `paths` after the built-in pack (so ids can
/// override built-ins and `supersedes` can name them). Returns the user
/// sources' problems only.
fn no_user_rules() -> ExitCode {
    eprintln!("faultline: no user rules found.");
    eprintln!(
        "  searched: $XDG_CONFIG_HOME/faultline/rules, .faultline/rules here or in a parent, FAULTLINE_RULES"
    );
    eprintln!(
        "  give a path (`faultline rules check DIR`) or create a rule: `faultline rules new provider.what-failed`"
    );
    ExitCode::from(2)
}

fn check(paths: &[PathBuf], format: &str) -> ExitCode {
    let paths = paths_or_discovered(paths);
    if paths.is_empty() {
        return no_user_rules();
    }
    let mut unreadable = Vec::new();
    let sources = read_sources(&paths, &mut unreadable);
    let files = sources.len() + unreadable.len();
    let mut checked = faultline::rules::check::check(&sources, true);
    unreadable.append(&mut checked.problems);
    checked.problems = unreadable;
    let code = if checked.errors() > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    if format == "json" {
        let json = faultline::rules::check::check_json(&checked, files);
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("a JSON value")
        );
        return code;
    }
    let rules = checked.user_rules().len();
    eprint!("{}", render_problems(&checked.problems));
    let (errors, warnings) = (checked.errors(), checked.warnings());
    let warned = match warnings {
        0 => String::new(),
        n => format!(", {n} warning{}", plural(n)),
    };
    if errors == 0 {
        println!(
            "faultline: {rules} rule{} in {files} file{}: no problems{warned}",
            plural(rules),
            plural(files)
        );
        return code;
    }
    let bad: BTreeSet<&str> = checked
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.file.as_str())
        .collect();
    eprintln!(
        "faultline: {errors} problem{} in {} of {files} rule file{}{warned}",
        plural(errors),
        bad.len(),
        plural(files)
    );
    code
}

fn test(paths: &[PathBuf], builtin: bool, format: &str) -> ExitCode {
    let (rules, providers, problems) = if builtin {
        let report = load::load(&faultline::rules::builtin_sources());
        (report.rules, report.providers, report.problems)
    } else {
        let paths = paths_or_discovered(paths);
        if paths.is_empty() {
            return no_user_rules();
        }
        let mut problems = Vec::new();
        let sources = read_sources(&paths, &mut problems);
        let checked = faultline::rules::check::check(&sources, false);
        problems.extend(checked.problems.iter().filter(|p| p.is_error()).cloned());
        let user = checked.user_rules().into_iter().cloned().collect();
        (user, checked.report.providers, problems)
    };
    let results = run_examples(&rules, &providers);
    let code = if !problems.is_empty() {
        ExitCode::from(2)
    } else if results.iter().all(|r| r.passed()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if format == "json" {
        let json = faultline::rules::check::test_json(&results, &problems);
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("a JSON value")
        );
        return code;
    }
    print_problems(&problems, "rules with problems are not tested");
    print!("{}", faultline::rules::selftest::report(&results));
    code
}

fn new(id: &str, dir: Option<PathBuf>, force: bool) -> ExitCode {
    if !load::is_valid_id(id) {
        eprintln!("faultline: `{id}` is not a valid rule id");
        eprintln!(
            "  use lower-case dotted words, `provider.what-went-wrong`: e.g. `slack.invalid-auth`"
        );
        return ExitCode::from(2);
    }
    let Some(dir) = dir.or_else(config_rules_dir) else {
        eprintln!(
            "faultline: no user rules directory (neither XDG_CONFIG_HOME nor HOME is set); pass --dir"
        );
        return ExitCode::from(2);
    };
    let path = dir.join(format!("{id}.toml"));
    if path.exists() && !force {
        eprintln!(
            "faultline: {} already exists (--force overwrites it)",
            path.display()
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, template(id)))
    {
        eprintln!("faultline: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    let shown = path.display();
    println!("created {shown}");
    println!();
    println!("next:");
    println!(
        "  1. edit it: the `when` conditions, the texts, and the two examples (one real log excerpt that must match, one near miss that must not)"
    );
    println!("  2. faultline rules check {shown}");
    println!("  3. faultline rules test {shown}");
    println!("  4. faultline --rules {} your.log", dir.display());
    println!("fields rules can test: `faultline rules fields`; reference: docs/rules.md");
    ExitCode::SUCCESS
}

/// A rule file that loads cleanly and passes its own examples, with every
/// key explained, for the author to edit.
pub fn template(id: &str) -> String {
    let provider = id.split('.').next().unwrap_or("acme");
    TEMPLATE
        .replace("{{id}}", id)
        .replace("{{provider}}", provider)
}

const TEMPLATE: &str = r#"# A faultline rule file: one or more [[rule]] tables.
#
#   faultline rules check THIS_FILE    every problem, with its place
#   faultline rules test THIS_FILE     runs the examples below
#   faultline rules fields             the facts `when` can test
#   faultline rules schema             JSON Schema, for editor completion
#
# Reference: docs/rules.md in the faultline repository.

[[rule]]
# Unique id, lower-case dotted words. Reusing a built-in id replaces that rule.
id = "{{id}}"
# The diagnosis headline. `{error}` is filled with the fact's value.
title = "The API refused the request ({error})"
severity = "error"      # error | warning | info
confidence = 0.7        # 0..1: how sure you are of the cause when this matches
provider = "{{provider}}"

# All of these must hold for one failing exchange. Keys are fact fields;
# a value means "equals" (text is compared case-insensitively), an array
# means "one of", a table holds operators: regex, contains, starts_with,
# ends_with, exists, gt, lt, gte, lte, same_as (and label, the text shown).
when = { status = 400, error = "example_error_code" }
# any = [ { "url.path" = { contains = "/v1/" } }, { "exception.type" = { ends_with = "ApiError" } } ]
# unless = { endpoint = "token" }    # each condition here, on its own, stops the rule
#                                      ([{ a, b }, { c }]: a and b together, or c)

cause = "Say why this failure happens: what the error code means for this API, and what usually triggers it."
fix = "Say what to do, step by step."
# check = "How to confirm this is the cause."
# not = ["A cause people suspect, and why it is not this."]
docs = ["https://example.com/replace-with-the-page-that-documents-this-error"]
# supersedes = ["oauth.invalid-request"]   # hide a more generic rule when this one matches

# Examples are the rule's tests: paste a real excerpt (log lines, curl -v
# output, a traceback, or just the response body) between the ''' marks.
[[rule.example]]
name = "matches"
input = '''
HTTP/1.1 400 Bad Request
Content-Type: application/json

{"error": "example_error_code", "error_description": "replace this example"}
'''
matches = true

# A near miss: close to the failure, but not it. It must not match.
[[rule.example]]
name = "near-miss"
input = '''
HTTP/1.1 400 Bad Request
Content-Type: application/json

{"error": "another_error_code"}
'''
matches = false
"#;

fn fields(format: &str) -> ExitCode {
    match format {
        "json" => {
            let exact = FIELDS.iter().map(|(n, m, e)| {
                serde_json::json!({ "field": n, "meaning": m, "example": e, "family": false })
            });
            let prefixes = FIELD_PREFIXES.iter().map(|(n, m, e)| {
                serde_json::json!({ "field": format!("{n}*"), "meaning": m, "example": e, "family": true })
            });
            let rows: Vec<serde_json::Value> = exact.chain(prefixes).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&rows).expect("a JSON value")
            );
        }
        "markdown" => print!("{}", fields_markdown()),
        _ => {
            let width = FIELDS
                .iter()
                .map(|(n, _, _)| n.len())
                .chain(FIELD_PREFIXES.iter().map(|(n, _, _)| n.len() + 1))
                .max()
                .unwrap_or(0);
            println!("Fields (exact names):\n");
            for (name, meaning, example) in FIELDS {
                println!(
                    "  {name:<width$}  {meaning}\n  {:<width$}  e.g. {example}",
                    ""
                );
            }
            println!("\nField families (any name with this prefix):\n");
            for (prefix, meaning, example) in FIELD_PREFIXES {
                let name = format!("{prefix}*");
                println!(
                    "  {name:<width$}  {meaning}\n  {:<width$}  e.g. {example}",
                    ""
                );
            }
        }
    }
    ExitCode::SUCCESS
}

/// The fields tables of docs/rules.md (a test keeps the two identical).
pub fn fields_markdown() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| Field | Meaning | Example value |\n|---|---|---|\n");
    for (name, meaning, example) in FIELDS {
        out.push_str(&format!(
            "| `{name}` | {} | `{}` |\n",
            cell(meaning),
            cell(example)
        ));
    }
    out.push_str("\nField families: any name with the prefix is valid.\n\n| Prefix | Meaning | Example field |\n|---|---|---|\n");
    for (prefix, meaning, example) in FIELD_PREFIXES {
        out.push_str(&format!(
            "| `{prefix}…` | {} | `{}` |\n",
            cell(meaning),
            cell(example)
        ));
    }
    out
}
