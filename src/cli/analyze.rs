//! The main job: read the inputs, load the rules, analyse, report, and say
//! with the exit status whether anything failed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use faultline::mask::Masker;
use faultline::report::{self, Format, HumanStyle, Problem, ReportCtx};
use faultline::rules::load::RuleProblem;

use super::{GlobalArgs, ReportArgs, discover, format_for, inputs, output, stream};

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
    // Following prints as it goes: short unless jsonl is asked for.
    let default = if args.follow { "short" } else { "human" };
    let format = match format_for(global, "faultline", &names, default) {
        Ok(f) => Format::from_str(&f, true).unwrap_or(Format::Human),
        Err(code) => return code,
    };
    if args.follow && !matches!(format, Format::Short | Format::Jsonl) {
        note!(
            "error: --follow prints each failing call as it happens: use it with --format short (the default) or jsonl"
        );
        return ExitCode::from(2);
    }
    if args.follow && (paths.len() > 1 || paths.iter().any(|p| p.is_dir())) {
        note!("error: --follow reads one file, or stdin");
        return ExitCode::from(2);
    }
    let mut paths = paths.to_vec();
    if paths.is_empty() && !args.follow {
        if std::io::stdin().is_terminal() {
            note!("{NOTHING_TO_READ}");
            return ExitCode::from(2);
        }
        paths.push(PathBuf::from("-"));
    }
    // Rule problems are reported and exit 2 at the end; the analysis runs
    // with every rule that loaded.
    let mut loaded = discover::load_rules(global);
    faultline::rules::engine::release_for_analysis(&mut loaded.set.rules);
    let code = analyze(&loaded, &paths, global, args, format);
    super::release(loaded);
    code
}

/// The analysis and its report, with the rules loaded.
fn analyze(
    loaded: &discover::Loaded,
    paths: &[PathBuf],
    global: &GlobalArgs,
    args: &ReportArgs,
    format: Format,
) -> ExitCode {
    super::rules::print_problems(&loaded.problems, "the other rules were loaded");
    let inputs = inputs::resolve(paths, global.verbose, global.quiet > 0);
    for p in inputs.problems.iter().filter(|p| p.severity == "error") {
        note!("faultline: {}", report::text::visible(&p.message));
    }
    // Nothing readable (missing, unreadable, binary): the messages above are
    // the whole answer, not a report saying that nothing was found. The JSON
    // report is still written, with its problems, for the tools that read it.
    if inputs.sources.is_empty()
        && !inputs.problems.is_empty()
        && !matches!(format, Format::Json | Format::Jsonl)
    {
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
    let masker = Masker {
        show_secrets: global.show_secrets,
    };
    // Short and jsonl print each failing call as soon as its batch is
    // read (and -qq prints nothing, so streams nothing).
    let streaming = matches!(format, Format::Short | Format::Jsonl) && global.quiet < 2;
    let mut out = match streaming.then(|| super::open_output(global)).transpose() {
        Ok(o) => o,
        Err(c) => return c,
    };
    let _interrupt = (streaming || args.follow).then(stream::catch_interrupt);
    let early_problems: Vec<Problem> = loaded
        .problems
        .iter()
        .map(rule_problem)
        .chain(inputs.problems.iter().cloned())
        .collect();
    if let Some(out) = out.as_mut()
        && format == Format::Jsonl
    {
        let names: Vec<String> = match args.follow {
            true => vec![stream::followed_source(&follow_path(paths), 0).name],
            false => inputs.sources.iter().map(|s| s.name.clone()).collect(),
        };
        let mut head = report::jsonl::header(&names, &loaded.set);
        for p in &early_problems {
            head.push_str(&report::jsonl::problem(p));
        }
        out.write_now(&head);
    }
    let progress = stream::Progress::new(global.quiet > 0);
    let sink: Option<faultline::Sink> = match out.as_mut() {
        None => None,
        Some(out) => {
            let (rules, progress) = (&loaded.set, &progress);
            Some(Box::new(move |batch: &faultline::Batch| {
                let mut ctx = ReportCtx::new(batch.analysis, rules, masker);
                ctx.first_id = batch.first_id;
                let text = match format {
                    Format::Jsonl => report::jsonl::records(&ctx),
                    _ => report::render_short_with(&ctx, global.verbose),
                };
                progress.suspend(|| out.write_now(&text));
                match out.closed() {
                    true => std::ops::ControlFlow::Break(()),
                    false => std::ops::ControlFlow::Continue(()),
                }
            }))
        }
    };
    let (analysis, totals) = if args.follow {
        let path = follow_path(paths);
        let names = [stream::followed_source(&path, 0).name];
        let mut feed = faultline::Feed::new(&loaded.set, opts, &names, sink);
        let (bytes, problems) =
            match stream::follow(path.clone(), args.follow_gap, &mut feed, &progress) {
                Ok(bytes) => (bytes, Vec::new()),
                Err(p) => (0, vec![p]),
            };
        let (a, mut t) = feed.finish(vec![stream::followed_source(&path, bytes)], problems);
        t.stopped |= stream::interrupted();
        (a, t)
    } else {
        let update = |bytes: u64, incidents: usize| progress.update(bytes, incidents);
        let watch = faultline::Watch {
            stop: &stream::interrupted,
            progress: &update,
        };
        faultline::analyze_streaming(&inputs.sources, &loaded.set, opts, &watch, sink)
    };
    progress.finish();
    // Patterns compile when first needed; one that could not (too large
    // for the regex engine) is a problem of its rule, and the others ran.
    let late = loaded.set.late_problems();
    super::rules::print_problems(&late, "the other rules ran");
    let mut problems = early_problems;
    let streamed_problems = problems.len();
    problems.extend(late.iter().map(rule_problem));
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
    // Said, never silent: failures past what a run keeps are analysed but
    // only summed up, one note per first diagnosis.
    for agg in &analysis.not_kept.by_diagnosis {
        let name = |source: usize| {
            analysis
                .sources
                .get(source)
                .map_or("<input>", |s| s.name.as_str())
        };
        let what = match &agg.top {
            Some(t) => format!(
                "diagnosed {} ({}: {})",
                t.rule,
                t.severity.as_str(),
                faultline::mask::mask(&t.title)
            ),
            None => "that no rule explains".to_string(),
        };
        let last = match agg.last.source == agg.first.source {
            true => format!("line {}", agg.last.line),
            false => format!("{}:{}", name(agg.last.source), agg.last.line),
        };
        let message = format!(
            "{} more failure(s) {what}, from here to {last}, are summed up, not listed (faultline lists the first {} distinct failures, so that memory stays flat); the first: {}",
            agg.failures,
            faultline::incidents::MAX_KEPT + faultline::incidents::MAX_REDUCED,
            faultline::mask::mask(&agg.example)
        );
        let name = name(agg.first.source);
        if global.quiet == 0 {
            note!(
                "faultline: {}:{}: {}",
                report::text::visible(name),
                agg.first.line,
                report::text::visible(&message)
            );
        }
        problems.push(Problem {
            kind: "input",
            severity: "note",
            code: "input::failures-summed-up".into(),
            source: name.to_string(),
            line: Some(agg.first.line),
            message,
        });
    }
    for long in &analysis.long_lines {
        let name = analysis
            .sources
            .get(long.source)
            .map_or("<input>", |s| s.name.as_str());
        // Said, never silent: what lies past the cap was not read.
        let message = format!(
            "this line is longer than {} MiB: faultline read its first {} MiB and skipped the other {} bytes, so that memory stays flat (a JSON body is parsed up to 1 MiB)",
            faultline::input::MAX_LINE >> 20,
            faultline::input::MAX_LINE >> 20,
            long.skipped
        );
        if global.quiet == 0 {
            note!(
                "faultline: {}:{}: {}",
                report::text::visible(name),
                long.line,
                message
            );
        }
        problems.push(Problem {
            kind: "input",
            severity: "note",
            code: "input::line-cut".into(),
            source: name.to_string(),
            line: Some(long.line),
            message,
        });
    }
    let failed = problems.iter().any(|p| p.severity == "error");
    let mut ctx = ReportCtx::new(&analysis, &loaded.set, masker);
    ctx.rule_dirs = discover::rule_dirs(&loaded.paths, &loaded.set.rules);
    ctx.problems = problems;
    let status: u8 = if totals.stopped && stream::interrupted() {
        stream::INTERRUPTED_STATUS
    } else if failed {
        2
    } else if analysis.fails(args.fail_on) {
        1
    } else {
        0
    };
    let code = ExitCode::from(status);
    if global.quiet >= 2 {
        return code;
    }
    if let Some(mut out) = out {
        // The stream's end: what only the whole input could tell.
        let mut tail = String::new();
        if format == Format::Jsonl {
            for p in &ctx.problems[streamed_problems..] {
                tail.push_str(&report::jsonl::problem(p));
            }
            let summary = report::jsonl::Summary::new(&ctx, &totals, status);
            tail.push_str(&report::jsonl::summary(&summary));
        } else if global.quiet == 0 {
            tail.push_str(&late_short_line(&totals));
        }
        out.write_now(&tail);
        return super::finish(out, code);
    }
    let look = output::look(global.color, global.width, global.output.is_some());
    let style = HumanStyle {
        color: look.color,
        links: look.links,
        width: look.width,
        brief: args.brief,
        summary: global.quiet == 0,
    };
    let mut out = match super::open_output(global) {
        Ok(o) => o,
        Err(c) => return c,
    };
    match format {
        Format::Short => out.write_str(&report::render_short_with(&ctx, global.verbose)),
        Format::Jsonl => out.write_str(&report::jsonl::render_jsonl(&ctx, status)),
        Format::Json => out.write_with(|w| report::write_json(&ctx, w)),
        Format::Human => report::write_human(&ctx, style, &mut |s| out.write_str(s)),
        _ => out.write_str(&report::render(format, &ctx, style)),
    }
    super::finish(out, code)
}

/// The followed input: the one path given (`-` or none: stdin).
fn follow_path(paths: &[PathBuf]) -> Option<PathBuf> {
    paths.first().filter(|p| p.as_os_str() != "-").cloned()
}

/// The short listing's last line, when failures already listed repeated
/// (or were retried successfully) later in the input: the listing cannot
/// take back a line, so it says so at the end.
fn late_short_line(totals: &faultline::StreamTotals) -> String {
    let mut parts = Vec::new();
    if totals.repeats_after > 0 {
        parts.push(format!(
            "{} more repeat{} of {} failing call{} listed above",
            totals.repeats_after,
            if totals.repeats_after == 1 { "" } else { "s" },
            totals.repeated_after,
            if totals.repeated_after == 1 { "" } else { "s" },
        ));
    }
    if totals.recovered_after > 0 {
        parts.push(format!(
            "{} listed above later succeeded on retry",
            totals.recovered_after
        ));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!("faultline: {}\n", parts.join("; ")),
    }
}
