//! The parallel scan changes nothing: the JSON report (incidents, facts,
//! diagnoses and their ranking) is the same with one thread and with
//! several, over every fixture and field case, at the default chunk size
//! and at a tiny one that puts many chunks in flight at once.

use std::path::Path;

use faultline::input::{Origin, SourceRef};
use faultline::mask::Masker;
use faultline::report::{ReportCtx, render_json};
use faultline::rules::{RuleSet, load::load};
use faultline::{ScanOptions, Watch, analyze_streaming, analyze_text_with, analyze_with};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

/// Every fixture (not the capture scripts) and every field case's input.
fn inputs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for root in ["fixtures", "tests/field/cases"] {
        for entry in walkdir::WalkDir::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(root))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy();
            if path.components().any(|c| c.as_os_str() == "capture")
                || (root.starts_with("tests") && !name.starts_with("input."))
            {
                continue;
            }
            let bytes = std::fs::read(path).unwrap();
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    assert!(out.len() > 300, "corpus too small: {}", out.len());
    out
}

fn report(rules: &RuleSet, name: &str, text: &str, threads: usize, chunk_size: usize) -> String {
    let opts = ScanOptions {
        threads,
        chunk_size,
    };
    let analysis = analyze_text_with(name, text, rules, opts);
    render_json(&ReportCtx::new(
        &analysis,
        rules,
        Masker {
            show_secrets: false,
        },
    ))
}

#[test]
fn one_thread_and_many_give_the_same_report() {
    let rules = builtin();
    let mut differ = Vec::new();
    let mut multi_chunk = 0;
    for (name, text) in inputs() {
        for chunk_size in [faultline::input::CHUNK_SIZE, 1 << 10] {
            let one = report(&rules, &name, &text, 1, chunk_size);
            let many = report(&rules, &name, &text, 4, chunk_size);
            if one != many {
                differ.push(format!("{name} (chunks of {chunk_size} bytes)"));
            }
            if text.len() > chunk_size {
                multi_chunk += 1;
            }
        }
    }
    assert!(differ.is_empty(), "reports differ: {differ:#?}");
    // The tiny chunk size really did split inputs across threads.
    assert!(multi_chunk > 50, "only {multi_chunk} inputs were split");
}

/// Files are read on a thread of their own beside a scan on several
/// threads: the report is the one read inline on one thread, chunks in the
/// same order, sources (a missing one among them) in the same order.
#[test]
fn files_read_on_a_thread_of_their_own_give_the_same_report() {
    let rules = builtin();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut sources: Vec<SourceRef> = walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && !e.path().to_string_lossy().contains("capture"))
        .take(120)
        .map(|e| SourceRef {
            name: e.path().display().to_string(),
            origin: Origin::File(e.path().to_path_buf()),
        })
        .collect();
    sources.insert(
        7,
        SourceRef {
            name: "missing.log".into(),
            origin: Origin::File(root.join("no such file.log")),
        },
    );
    let json = |analysis: &faultline::Analysis| {
        render_json(&ReportCtx::new(
            analysis,
            &rules,
            Masker {
                show_secrets: false,
            },
        ))
    };
    for chunk_size in [faultline::input::CHUNK_SIZE, 1 << 10] {
        let inline = analyze_with(
            &sources,
            &rules,
            ScanOptions {
                threads: 1,
                chunk_size,
            },
        );
        let opts = ScanOptions {
            threads: 3,
            chunk_size,
        };
        let (alongside, _) = analyze_streaming(&sources, &rules, opts, &Watch::NONE, None);
        assert_eq!(alongside.problems.len(), 1, "the missing file is a problem");
        assert_eq!(alongside.sources.len(), sources.len());
        assert!(
            json(&inline) == json(&alongside),
            "reports differ (chunks of {chunk_size} bytes)"
        );
    }
}

/// Megabytes of distinct failures, each told over several lines: past the
/// caps a chunk hands over reduced failures up to a byte budget of its own,
/// and what each chunk may keep is taken from the run at fixed places in
/// the stitching. Those places do not depend on the number of threads, so
/// neither does which failures are listed (they once did: one thread
/// listed a later stretch of the log than two).
#[test]
fn past_the_caps_one_thread_and_many_list_the_same_failures() {
    let rules = builtin();
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 3 * faultline::input::CHUNK_SIZE {
        let (status, reason, code) = [
            (403, "Forbidden", "missing.permissions"),
            (401, "Unauthorized", "bad.credentials"),
            (404, "Not Found", "not.found"),
        ][i % 3];
        text.push_str(&format!(
            "2026-11-24 00:{:02}:{:02},846 DEBUG urllib3.connectionpool: https://api.mypurecloud.com:443 \"POST /api/v2/things/{i} HTTP/1.1\" {status} 253\n\
             Traceback (most recent call last):\n  File \"/srv/etl/sync.py\", line 313, in fetch\n    resp.raise_for_status()\n\
             requests.exceptions.HTTPError: {status} Client Error: {reason} for url: https://api.mypurecloud.com/api/v2/things/{i}\n\
             {{\"message\":\"Request {i} refused\",\"code\":\"{code}\",\"status\":{status},\"contextId\":\"{i:08x}-450b-bc4f-a56d-bdb2ca634b88\"}}\n",
            (i / 60) % 60,
            i % 60,
        ));
        i += 1;
    }
    let one = report(&rules, "distinct", &text, 1, faultline::input::CHUNK_SIZE);
    for threads in [2, 3, 8] {
        let many = report(
            &rules,
            "distinct",
            &text,
            threads,
            faultline::input::CHUNK_SIZE,
        );
        assert!(
            one == many,
            "one thread and {threads} list different failures"
        );
    }
    // The caps were reached: failures were summed up, not listed.
    let opts = ScanOptions {
        threads: 1,
        chunk_size: faultline::input::CHUNK_SIZE,
    };
    let analysis = analyze_text_with("distinct", &text, &rules, opts);
    assert!(analysis.not_kept.failures > 0, "no failure summed up");
}

/// Every line a distinct failure: the first `MAX_KEPT` are kept in full,
/// the next ones reduced to their report form (diagnosed as they came),
/// the rest diagnosed and summed up by first diagnosis (memory stays
/// flat); every failure is accounted for, with one thread or two, and
/// repeats of a kept one still fold into it, even after the caps.
#[test]
fn distinct_failures_past_the_caps_are_reduced_then_summed_up() {
    let rules = builtin();
    let cap = faultline::incidents::MAX_KEPT + faultline::incidents::MAX_REDUCED;
    // Past the light budget of a chunk (1280 at a 640 KiB budget), so the
    // late repeats come after failures that are only counted.
    let distinct = cap + 3_000;
    let mut text = String::new();
    for i in 0..distinct {
        text.push_str(&format!(
            "GET https://api.example.com/v1/items/{i} -> 500\n"
        ));
    }
    for _ in 0..3 {
        text.push_str("GET https://api.example.com/v1/items/0 -> 500\n");
    }
    for threads in [1, 2] {
        let opts = ScanOptions {
            threads,
            chunk_size: 16 << 10,
        };
        let a = analyze_text_with("storm", &text, &rules, opts);
        let listed: usize = a.incidents.iter().map(|i| 1 + i.repeat_count).sum();
        assert!(a.incidents.len() <= cap, "threads {threads}");
        assert!(
            a.incidents.len() > faultline::incidents::MAX_KEPT,
            "threads {threads}: none reduced"
        );
        assert_eq!(
            listed + a.not_kept.failures,
            distinct + 3,
            "threads {threads}"
        );
        let summed: usize = a.not_kept.by_diagnosis.iter().map(|g| g.failures).sum();
        assert_eq!(summed, a.not_kept.failures);
        // Every failure was diagnosed: listed ones have a diagnosis, summed
        // up ones are summed up under the rule that explained them.
        for (i, _) in a.incidents.iter().enumerate() {
            assert!(
                a.diagnoses.iter().any(|d| d.incident == Some(i)),
                "incident {i} has no diagnosis"
            );
        }
        let first_rule = a.diagnoses.iter().find(|d| d.incident == Some(0)).unwrap();
        for g in &a.not_kept.by_diagnosis {
            let top = g.top.as_ref().expect("diagnosed");
            assert_eq!(top.rule, first_rule.id, "the same failure, the same rule");
            assert!(g.first.line <= g.last.line && g.last.line <= distinct);
            assert!(g.example.contains("/v1/items/"), "{}", g.example);
        }
        // Reduced incidents keep what the report shows.
        let last = a.incidents.last().unwrap();
        assert!(last.diagnosed.is_some(), "the last listed one was reduced");
        assert!(
            last.headline().contains("/v1/items/"),
            "{}",
            last.headline()
        );
        let first = &a.incidents[0];
        assert_eq!(first.repeat_count, 3, "repeats fold after the caps");
    }
}

/// Seams are stitched: an exchange split across chunks (request in one,
/// status, headers, body or the end of its traceback in the next) is read
/// as if the chunks were one. Every input, cut into chunks of one line, of
/// a few lines and of 4 KiB, gives the report of one chunk, with one thread
/// and with several.
#[test]
fn chunk_seams_change_nothing() {
    let rules = builtin();
    let mut differ = Vec::new();
    for (name, text) in inputs() {
        let whole = report(&rules, &name, &text, 1, usize::MAX >> 1);
        for chunk_size in [1, 300, 4 << 10] {
            if text.len() <= chunk_size {
                continue;
            }
            for threads in [1, 3] {
                if report(&rules, &name, &text, threads, chunk_size) != whole {
                    differ.push(format!(
                        "{name} (chunks of {chunk_size} bytes, {threads} threads)"
                    ));
                }
            }
        }
    }
    assert!(
        differ.is_empty(),
        "{} reports differ: {differ:#?}",
        differ.len()
    );
}

/// A chunk may not end at the blank line between an HTTP message's headers
/// and its body: the body would be read apart from its exchange. The
/// message is placed so that its blank line is the last one before the
/// chunk size, where the reader would otherwise cut.
#[test]
fn a_seam_never_falls_between_headers_and_body() {
    let rules = builtin();
    let exchange = "POST https://login.example.com/oauth2/token HTTP/1.1\n\
                    Content-Type: application/x-www-form-urlencoded\n\
                    \n\
                    grant_type=refresh_token\n\
                    HTTP/1.1 400 Bad Request\n\
                    Content-Type: application/json\n\
                    Cache-Control: no-store\n\
                    \n\
                    {\"error\":\"invalid_grant\",\"error_description\":\"The refresh token has expired\"}\n";
    let blank = exchange.rfind("\n\n").unwrap() + 2;
    for chunk_size in [faultline::input::CHUNK_SIZE, 64 << 10] {
        let mut text = String::new();
        let mut n = 0;
        // Filler up to where the exchange's last blank line ends a few bytes
        // before the chunk size.
        while text.len() + blank + 128 < chunk_size {
            text.push_str(&format!(
                "2026-11-24 00:00:01,{:03} INFO worker: item {n} done\n",
                n % 1000
            ));
            n += 1;
        }
        let pad = chunk_size - 4 - blank - text.len() - 1;
        text.push_str(&format!("{}\n", "-".repeat(pad)));
        assert_eq!(text.len() + blank, chunk_size - 4);
        text.push_str(exchange);
        for k in 0..200 {
            text.push_str(&format!("2026-11-24 00:00:02,{k:03} INFO worker: idle\n"));
        }
        let whole = report(&rules, "seam.log", &text, 1, usize::MAX >> 1);
        for threads in [1, 2] {
            let opts = ScanOptions {
                threads,
                chunk_size,
            };
            let a = analyze_text_with("seam.log", &text, &rules, opts);
            // The body is read with its status, in one exchange.
            assert!(
                a.incidents
                    .iter()
                    .any(|i| i.facts.num("status") == Some(400.0)
                        && i.facts.str("body.error_description")
                            == Some("The refresh token has expired")),
                "chunks of {chunk_size} bytes: {:#?}",
                a.incidents
            );
            let cut = report(&rules, "seam.log", &text, threads, chunk_size);
            assert_eq!(
                cut, whole,
                "chunks of {chunk_size} bytes, {threads} threads"
            );
        }
    }
}

/// What a stream (`--format short`, `jsonl`) hands on, batch by batch (each
/// batch's first id and its incidents' headlines), and what it counts at
/// the end (repeats and recoveries of incidents already handed on).
fn streamed(
    rules: &RuleSet,
    path: &Path,
    threads: usize,
    chunk_size: usize,
) -> (Vec<(usize, Vec<String>)>, [usize; 4]) {
    let mut batches = Vec::new();
    let sink = Box::new(|batch: &faultline::Batch| {
        let headlines = batch.analysis.incidents.iter().map(|i| i.headline());
        batches.push((batch.first_id, headlines.collect()));
        std::ops::ControlFlow::Continue(())
    });
    let source = SourceRef {
        name: "stream.log".into(),
        origin: Origin::File(path.to_path_buf()),
    };
    let opts = ScanOptions {
        threads,
        chunk_size,
    };
    let (_, t) = analyze_streaming(&[source], rules, opts, &Watch::NONE, Some(sink));
    let totals = [
        t.streamed,
        t.repeats_after,
        t.repeated_after,
        t.recovered_after,
    ];
    (batches, totals)
}

/// A stream lists the same incidents at the same places with any number of
/// threads, and its last line counts the same repeats and recoveries of
/// incidents it listed before them: it hands on what each chunk finished
/// (it once handed on a group of `threads` chunks at a time, so more
/// threads listed later and counted fewer repeats after).
#[test]
fn one_thread_and_many_stream_the_same_listing() {
    let rules = builtin();
    let mut text = String::new();
    let mut i = 0;
    // Four chunks: 150 calls failing in the first, failing again in the
    // next ones, half of them retried successfully in the last.
    while text.len() < 3 * faultline::input::CHUNK_SIZE + (1 << 19) {
        let call = i % 150;
        let retried = text.len() > 3 * faultline::input::CHUNK_SIZE && call % 2 == 0;
        text.push_str(&format!(
            "2026-11-24 {:02}:{:02}:{:02},118 DEBUG urllib3.connectionpool: https://api.mypurecloud.com:443 \"GET /api/v2/groups/{call} HTTP/1.1\" {} 88\n\
             2026-11-24 00:00:00,000 INFO sync.jobs: wrote batch 7 (12 rows) to warehouse table teams\n",
            i / 3600 % 24,
            i / 60 % 60,
            i % 60,
            if retried { 200 } else { 403 },
        ));
        i += 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.log");
    std::fs::write(&path, &text).unwrap();
    let chunk_size = faultline::input::CHUNK_SIZE;
    let one = streamed(&rules, &path, 1, chunk_size);
    assert!(!one.0.is_empty() && one.1[0] == 150, "{:?}", one.1);
    assert!(one.1[1] > 0 && one.1[3] > 0, "nothing after: {:?}", one.1);
    for threads in [2, 3, 8] {
        let many = streamed(&rules, &path, threads, chunk_size);
        assert!(
            one == many,
            "one thread and {threads} stream differently:\n{one:?}\n{many:?}"
        );
    }
}
