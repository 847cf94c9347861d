//! The main job: read the inputs, load the rules, analyse, report, and say
//! with the exit status whether anything failed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use faultline::mask::Masker;
use faultline::report::{self, Format, HumanStyle, Problem, ReportCtx};
use faultline::rules::load::RuleProblem;

use super::{GlobalArgs, ReportArgs, discover, format_for, inputs, output};

const NOTHING_TO_READ: &str = "\
faultline: nothing to read.

  faultline run.log                 analyse a saved log (or a directory of logs)
  faultline -                       paste the error, then Ctrl-D (Ctrl-Z then Enter on Windows)
  some-command 2>&1 | faultline     analyse what a command printed
  faultline --help                  all options";

fn rule_problem(p: &RuleProblem) -> Problem {
    let line = p.line();
    Problem {
        kind: "rules",
        severity: if p.is_error() { "error" } else { "warning" },
        code: p.code.clone(),
        source: p.file.clone(),
        line: (line > 0).then_some(line),
        message: p.message.clone(),
    }
}

pub fn run(paths: &[PathBuf], global: &GlobalArgs, args: &ReportArgs) -> ExitCode {
    let names: Vec<String> = Format::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|v| v.get_name().to_string())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let format = match format_for(global, "faultline", &names, "human") {
        Ok(f) => Format::from_str(&f, true).unwrap_or(Format::Human),
        Err(code) => return code,
    };
    let mut paths = paths.to_vec();
    if paths.is_empty() {
        if std::io::stdin().is_terminal() {
            note!("{NOTHING_TO_READ}");
            return ExitCode::from(2);
        }
        paths.push(PathBuf::from("-"));
    }
    // Rule problems are reported and exit 2 at the end; the analysis runs
    // with every rule that loaded.
    let loaded = discover::load_rules(global);
    super::rules::print_problems(&loaded.problems, "the other rules were loaded");
    let inputs = inputs::resolve(&paths, global.verbose, global.quiet > 0);
    for p in inputs.problems.iter().filter(|p| p.severity == "error") {
        note!("faultline: {}", report::text::visible(&p.message));
    }
    // Nothing readable (missing, unreadable, binary): the messages above are
    // the whole answer, not a report saying that nothing was found. The JSON
    // report is still written, with its problems, for the tools that read it.
    if inputs.sources.is_empty() && !inputs.problems.is_empty() && format != Format::Json {
        let failed =
            inputs.problems.iter().any(|p| p.severity == "error") || !loaded.problems.is_empty();
        let skipped = inputs
            .problems
            .iter()
            .filter(|p| p.code == "input::binary")
            .count();
        if !failed && global.quiet == 0 {
            note!(
                "faultline: no text to analyse ({skipped} binary file{} skipped{})",
                if skipped == 1 { "" } else { "s" },
                if inputs.skipped_silently == 0 {
                    ""
                } else {
                    "; --verbose names them"
                }
            );
        }
        return ExitCode::from(if failed { 2 } else { 0 });
    }
    let opts = faultline::ScanOptions {
        threads: args.threads.unwrap_or(0),
        ..faultline::ScanOptions::default()
    };
    let analysis = faultline::analyze_with(&inputs.sources, &loaded.set, opts);
    // Patterns compile when first needed; one that could not (too large
    // for the regex engine) is a problem of its rule, and the others ran.
    let late = loaded.set.late_problems();
    super::rules::print_problems(&late, "the other rules ran");
    let mut problems: Vec<Problem> = loaded.problems.iter().map(rule_problem).collect();
    problems.extend(late.iter().map(rule_problem));
    problems.extend(inputs.problems);
    for p in &analysis.problems {
        note!(
            "faultline: cannot read {}: {}",
            report::text::visible(&p.name),
            report::text::visible(&faultline::mask::mask(&p.message))
        );
        problems.push(Problem {
            kind: "input",
            severity: "error",
            code: "input::unreadable".into(),
            source: p.name.clone(),
            line: None,
            message: p.message.clone(),
        });
    }
    let not_kept = &analysis.not_kept;
    if let Some((headline, loc)) = &not_kept.example {
        let name = analysis
            .sources
            .get(loc.source)
            .map_or("<input>", |s| s.name.as_str());
        // Said, never silent: the report covers the failures it kept.
        let message = format!(
            "{} more distinct failure(s) were counted but not analysed (faultline keeps the first {} in full so that memory stays flat); the first: {}",
            not_kept.failures,
            faultline::incidents::MAX_KEPT,
            faultline::mask::mask(headline)
        );
        if global.quiet == 0 {
            note!(
                "faultline: {}:{}: {}",
                report::text::visible(name),
                loc.line,
                report::text::visible(&message)
            );
        }
        problems.push(Problem {
            kind: "input",
            severity: "note",
            code: "input::failures-not-kept".into(),
            source: name.to_string(),
            line: Some(loc.line),
            message,
        });
    }
    let failed = problems.iter().any(|p| p.severity == "error");
    let mut ctx = ReportCtx::new(
        &analysis,
        &loaded.set,
        Masker {
            show_secrets: global.show_secrets,
        },
    );
    ctx.rule_dirs = discover::rule_dirs(&loaded.paths, &loaded.set.rules);
    ctx.problems = problems;
    let code = if failed {
        ExitCode::from(2)
    } else if analysis.fails(args.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    if global.quiet >= 2 {
        return code;
    }
    let look = output::look(global.color, global.width, global.output.is_some());
    let style = HumanStyle {
        color: look.color,
        links: look.links,
        width: look.width,
        brief: args.brief,
        summary: global.quiet == 0,
    };
    let text = match format {
        Format::Short => report::render_short_with(&ctx, global.verbose),
        _ => report::render(format, &ctx, style),
    };
    let mut out = match super::open_output(global) {
        Ok(o) => o,
        Err(c) => return c,
    };
    out.write_str(&text);
    super::finish(out, code)
}
