//! `faultline rules …`: listing, showing, checking and testing rules, and
//! the schema and field references for rule authors (`rules new` is in
//! `scaffold.rs`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use faultline::facts::{FIELD_PREFIXES, FIELDS};
use faultline::report::text::visible;
use faultline::rules::load::{self, RuleProblem};
use faultline::rules::selftest::run_examples;
use miette::{GraphicalReportHandler, GraphicalTheme};

use super::discover::{self, Layer, RulesPath};
use super::{GlobalArgs, format_for, scaffold};

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the loaded rules: id, severity, provider, where each comes from
    /// (`-f json` for tools).
    List,
    /// Print one rule in full (`faultline explain` finds rules by error code,
    /// status or transport error too).
    Show {
        /// A rule id, or an error code some rule tests for.
        id: String,
    },
    /// Validate rule files: every problem in every file, with its place.
    Check {
        /// Rule files or directories (default: the discovered user rules).
        paths: Vec<PathBuf>,
    },
    /// Run rules' examples: positives must match, negatives must not.
    Test {
        /// Rule files or directories (default: the discovered user rules).
        paths: Vec<PathBuf>,
        /// Test the built-in rule pack instead.
        #[arg(long, conflicts_with = "paths")]
        builtin: bool,
    },
    /// Create a rule file: a commented template, or (with --from) a rule
    /// pre-filled from a failure faultline could not explain.
    #[command(after_help = "\
Examples:
  faultline rules new acme.quota-exhausted
  faultline rules new acme.quota-exhausted --from run.log:120 --dir .faultline/rules")]
    New {
        /// The new rule's id, e.g. `slack.invalid-auth`.
        id: String,
        /// Fill the rule from the failing call in FILE (at LINE, when the
        /// file holds several).
        #[arg(long, value_name = "FILE[:LINE]")]
        from: Option<String>,
        /// Directory to create it in (default: $XDG_CONFIG_HOME/faultline/rules).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of rule files, for TOML editors (see docs/rules.md).
    Schema,
    /// List the fact fields rules can test, with meanings and example values
    /// (`-f json`, `-f markdown`).
    Fields,
}

pub fn run(command: RulesCommand, global: &GlobalArgs) -> ExitCode {
    match command {
        RulesCommand::List => list(global),
        RulesCommand::Show { id } => super::explain::show(&id, global),
        RulesCommand::Check { paths } => check(&paths, global),
        RulesCommand::Test { paths, builtin } => test(&paths, builtin, global),
        RulesCommand::New {
            id,
            from,
            dir,
            force,
        } => scaffold::new(&id, from.as_deref(), dir, force, global),
        RulesCommand::Schema => {
            let schema = faultline::rules::schema::schema();
            let text = serde_json::to_string_pretty(&schema).expect("a JSON value") + "\n";
            super::emit(global, &text)
        }
        RulesCommand::Fields => fields(global),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Renders problems to stderr, then one summary line (`what` says what
/// happened to the rest, e.g. "the other rules were loaded").
pub fn print_problems(problems: &[RuleProblem], what: &str) {
    if problems.is_empty() {
        return;
    }
    let text = render_problems(problems);
    note!("{}", text.strip_suffix('\n').unwrap_or(&text));
    let files: BTreeSet<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    note!(
        "faultline: {} problem{} in {} rule file{}; {what}",
        problems.len(),
        plural(problems.len()),
        files.len(),
        plural(files.len()),
    );
}

/// Problems rendered by miette: colour only when stderr is a terminal and
/// `NO_COLOR` is unset, so piped output and snapshots are plain. Rule files
/// are the user's own text, but their control characters are made visible
/// all the same.
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
        let mut rendered = String::new();
        let _ = handler.render_report(&mut rendered, p);
        // Keep the layout's newlines; escape any other control character
        // (colour codes are only there when we added them).
        // Rule files quote examples, and examples hold credentials: masked.
        let rendered = faultline::mask::mask(&rendered);
        for line in rendered.split_inclusive('\n') {
            let body = line.strip_suffix('\n').unwrap_or(line);
            if color {
                out.push_str(body);
            } else {
                out.push_str(&visible(body));
            }
            if line.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

fn list(global: &GlobalArgs) -> ExitCode {
    let format = match format_for(global, "rules list", &["text", "json", "human"], "text") {
        Ok(f) => f,
        Err(c) => return c,
    };
    let loaded = discover::load_rules(global);
    print_problems(&loaded.problems, "the other rules are listed");
    let set = &loaded.set;
    let mut text = String::new();
    if format == "json" {
        let rows: Vec<serde_json::Value> = set
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "title": r.prose().title,
                    "severity": r.severity.as_str(),
                    "confidence": r.confidence,
                    "provider": r.provider,
                    "file": r.origin.file,
                    "line": r.origin.line,
                    "builtin": r.origin.builtin,
                    "origin": discover::origin(&loaded.paths, r),
                    "overrides_builtin": r.origin.overrides_builtin,
                    "overrides": r.origin.overrides,
                    "supersedes": r.supersedes.iter().collect::<Vec<_>>(),
                })
            })
            .collect();
        text = serde_json::to_string_pretty(&rows).expect("a JSON value") + "\n";
    } else {
        let width = set
            .rules
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        let origins: Vec<String> = set
            .rules
            .iter()
            .map(|r| discover::origin(&loaded.paths, r))
            .collect();
        let origin_width = origins.iter().map(|o| o.len()).max().unwrap_or(6).max(6);
        text.push_str(&format!(
            "{:<width$}  {:<8} {:<10} {:<origin_width$} SOURCE\n",
            "ID", "SEVERITY", "PROVIDER", "ORIGIN"
        ));
        for (r, origin) in set.rules.iter().zip(&origins) {
            text.push_str(&visible(&format!(
                "{:<width$}  {:<8} {:<10} {:<origin_width$} {}:{}",
                r.id,
                r.severity.as_str(),
                r.provider.as_deref().unwrap_or("-"),
                origin,
                r.origin.file,
                r.origin.line
            )));
            text.push('\n');
        }
        let builtin = set.rules.iter().filter(|r| r.origin.builtin).count();
        let dirs = discover::rule_dirs(&loaded.paths, &set.rules);
        let replaced: Vec<&str> = dirs
            .iter()
            .flat_map(|d| d.overrides.iter().map(|o| o.replaces.as_str()))
            .collect();
        let of_builtin = replaced.iter().filter(|r| **r == "built-in").count();
        let mut overriding = format!("{of_builtin} overriding a built-in rule");
        let of_user = replaced.len() - of_builtin;
        if of_user > 0 {
            overriding.push_str(&format!(
                ", {of_user} overriding a rule from a lower-precedence directory"
            ));
        }
        text.push_str(&format!(
            "\n{} rules: {builtin} built-in, {} user ({overriding})\n",
            set.rules.len(),
            set.rules.len() - builtin,
        ));
        if loaded.paths.is_empty() {
            text.push_str("user rules: none found (see `faultline rules new --help`)\n");
        }
        for dir in dirs {
            let mut line = format!(
                "user rules: {} (from {}): {} rule{}",
                dir.path,
                dir.from,
                dir.rules,
                plural(dir.rules)
            );
            if !dir.overrides.is_empty() {
                let list: Vec<String> = dir
                    .overrides
                    .iter()
                    .map(|o| format!("{} ({})", o.id, o.replaces))
                    .collect();
                line.push_str(&format!(", overriding {}", list.join(", ")));
            }
            text.push_str(&visible(&line));
            text.push('\n');
        }
    }
    let code = if loaded.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    };
    super::emit_with(global, &text, code)
}

/// The paths given, or else the discovered user rule directories.
fn paths_or_discovered(paths: &[PathBuf], problems: &mut Vec<RuleProblem>) -> Vec<RulesPath> {
    if paths.is_empty() {
        let args = GlobalArgs {
            no_builtin: true,
            ..GlobalArgs::default()
        };
        discover::discover(&args, problems)
    } else {
        paths
            .iter()
            .map(|p| RulesPath {
                path: p.clone(),
                layer: Layer::Flag,
            })
            .collect()
    }
}

fn no_user_rules(problems: &[RuleProblem]) -> ExitCode {
    print_problems(problems, "no rules were checked");
    note!("faultline: no user rules found.");
    note!(
        "  searched: $XDG_CONFIG_HOME/faultline/rules, .faultline/rules here or in a parent (up to the repository root), FAULTLINE_RULES"
    );
    note!(
        "  give a path (`faultline rules check DIR`) or create a rule: `faultline rules new provider.what-failed`"
    );
    ExitCode::from(2)
}

/// `text`, or `json` for CI (`faultline/rules-check@1`, `rules-test@1`).
fn check_format(global: &GlobalArgs, command: &str) -> Result<String, ExitCode> {
    format_for(global, command, &["text", "human", "json"], "text")
}

fn check(paths: &[PathBuf], global: &GlobalArgs) -> ExitCode {
    let format = match check_format(global, "rules check") {
        Ok(f) => f,
        Err(c) => return c,
    };
    let mut problems = Vec::new();
    let paths = paths_or_discovered(paths, &mut problems);
    if paths.is_empty() {
        return no_user_rules(&problems);
    }
    let sources = discover::read_sources(&paths, &mut problems);
    let unreadable = problems
        .iter()
        .filter(|p| p.code == "rule::unreadable")
        .count();
    let files = sources.len() + unreadable;
    let mut checked = faultline::rules::check::check(&sources, true);
    problems.append(&mut checked.problems);
    checked.problems = problems;
    let code = if checked.errors() > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    if format == "json" {
        let json = faultline::rules::check::check_json(&checked, files);
        let text = serde_json::to_string_pretty(&json).expect("a JSON value") + "\n";
        return super::emit_with(global, &text, code);
    }
    let rules = checked.user_rules().len();
    if !checked.problems.is_empty() {
        let text = render_problems(&checked.problems);
        note!("{}", text.strip_suffix('\n').unwrap_or(&text));
    }
    let (errors, warnings) = (checked.errors(), checked.warnings());
    let warned = match warnings {
        0 => String::new(),
        n => format!(", {n} warning{}", plural(n)),
    };
    if errors == 0 {
        let text = format!(
            "faultline: {rules} rule{} in {files} file{}: no problems{warned}\n",
            plural(rules),
            plural(files)
        );
        return super::emit(global, &text);
    }
    let bad: BTreeSet<&str> = checked
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.file.as_str())
        .collect();
    note!(
        "faultline: {errors} problem{} in {} of {files} rule file{}{warned}",
        plural(errors),
        bad.len(),
        plural(files)
    );
    code
}

fn test(paths: &[PathBuf], builtin: bool, global: &GlobalArgs) -> ExitCode {
    let format = match check_format(global, "rules test") {
        Ok(f) => f,
        Err(c) => return c,
    };
    let (rules, providers, problems) = if builtin {
        let report = load::load(&faultline::rules::builtin_sources());
        (report.rules, report.providers, report.problems)
    } else {
        let mut problems = Vec::new();
        let paths = paths_or_discovered(paths, &mut problems);
        if paths.is_empty() {
            return no_user_rules(&problems);
        }
        let sources = discover::read_sources(&paths, &mut problems);
        // Errors only: warnings are `rules check`'s to give.
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
    let masker = faultline::mask::Masker {
        show_secrets: global.show_secrets,
    };
    if format == "json" {
        let mut json = faultline::rules::check::test_json(&results, &problems);
        mask_strings(&mut json, &masker);
        let text = serde_json::to_string_pretty(&json).expect("a JSON value") + "\n";
        return super::emit_with(global, &text, code);
    }
    print_problems(&problems, "rules with problems are not tested");
    let text = visible_lines(&masker.string(&faultline::rules::selftest::report(&results)));
    super::emit_with(global, &text, code)
}

/// Masks every string of a JSON value (its text, not its syntax).
fn mask_strings(value: &mut serde_json::Value, masker: &faultline::mask::Masker) {
    match value {
        serde_json::Value::String(s) => *s = masker.string(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| mask_strings(v, masker)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| mask_strings(v, masker)),
        _ => {}
    }
}

/// Multi-line text with each line's control characters made visible.
pub fn visible_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push_str(&visible(body).replace('\t', "    "));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn fields(global: &GlobalArgs) -> ExitCode {
    let format = match format_for(
        global,
        "rules fields",
        &["text", "json", "markdown", "human"],
        "text",
    ) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let mut out = String::new();
    match format.as_str() {
        "json" => {
            let exact = FIELDS.iter().map(|(n, m, e)| {
                serde_json::json!({ "field": n, "meaning": m, "example": e, "family": false })
            });
            let prefixes = FIELD_PREFIXES.iter().map(|(n, m, e)| {
                serde_json::json!({ "field": format!("{n}*"), "meaning": m, "example": e, "family": true })
            });
            let rows: Vec<serde_json::Value> = exact.chain(prefixes).collect();
            out = serde_json::to_string_pretty(&rows).expect("a JSON value") + "\n";
        }
        "markdown" => out = fields_markdown(),
        _ => {
            let width = FIELDS
                .iter()
                .map(|(n, _, _)| n.len())
                .chain(FIELD_PREFIXES.iter().map(|(n, _, _)| n.len() + 1))
                .max()
                .unwrap_or(0);
            out.push_str("Fields (exact names):\n\n");
            for (name, meaning, example) in FIELDS {
                out.push_str(&format!(
                    "  {name:<width$}  {meaning}\n  {:<width$}  e.g. {example}\n",
                    ""
                ));
            }
            out.push_str("\nField families (any name with this prefix):\n\n");
            for (prefix, meaning, example) in FIELD_PREFIXES {
                let name = format!("{prefix}*");
                out.push_str(&format!(
                    "  {name:<width$}  {meaning}\n  {:<width$}  e.g. {example}\n",
                    ""
                ));
            }
        }
    }
    super::emit(global, &out)
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
