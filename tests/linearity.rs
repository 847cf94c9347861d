//! The whole pipeline's work is linear in the input (issue 12 §2), on the
//! log that costs it most: every line part of a different failure, as
//! `benches/gen_corpus.py --distinct --density 2000` writes. Counted, never
//! timed: a counting allocator sees every stage (reading, parsing, building
//! and folding incidents, rules, ranking, summing up), so work that grows
//! faster than the input shows as more allocations, or more bytes
//! allocated, per line — a failure re-examined or a list copied at every
//! new one does both. It also gives the most the run held at once, which
//! must not grow with the input.
//!
//! 10⁴ and 10⁵ lines run in `cargo test`. 10⁶ lines take minutes without
//! optimisations, so that case is `#[ignore]`d; `tests/linearity.sh` runs
//! it in the release profile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use faultline::rules::{RuleSet, load::load};
use faultline::{Analysis, ScanOptions, analyze_text_with};

/// Counts the calling thread's allocations: the scan runs on it with one
/// thread, and other tests' threads do not disturb the figures.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn allocated(size: usize) {
    let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + size as u64));
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + size as i64);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

fn freed(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - size as i64));
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters are const-initialised thread-locals without destructors, so
// counting never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed(layout.size());
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        freed(layout.size());
        allocated(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What one analysis cost, counted on this thread.
#[derive(Debug)]
struct Work {
    lines: usize,
    allocations: u64,
    allocated: u64,
    /// The most held at once beyond what was held when it began.
    peak: i64,
}

/// Lines of each round of [`distinct_failures`], and its failures.
const ROUND_LINES: usize = 18;
const ROUND_FAILURES: usize = 5;

/// A log of `lines` lines (rounded up to a round), each failure different
/// from every other: a Genesys rate limit logged by urllib3 and the SDK, a
/// `requests` traceback with its body, an axios one-liner, a curl `-v`
/// exchange and a JSON log record, with ids, paths and codes that never
/// repeat.
fn distinct_failures(lines: usize) -> String {
    let mut out = String::with_capacity(lines * 90);
    for i in 0..lines.div_ceil(ROUND_LINES) {
        out.push_str(&format!(
                "2026-11-24 00:00:01,736 DEBUG urllib3.connectionpool: https://api.mypurecloud.com:443 \"POST /api/v2/analytics/conversations/details/query/{i} HTTP/1.1\" 429 None\n\
                 PureCloudPlatformClientV2.rest.ApiException: (429)\n\
                 Reason: Too Many Requests\n\
                 HTTP response headers: HTTPHeaderDict({{'Content-Type': 'application/json', 'Retry-After': '{}', 'inin-correlation-id': 'c-{i}'}})\n\
                 HTTP response body: {{\"message\":\"Rate limit exceeded the maximum. Retry the request in [{}] seconds\",\"code\":\"too.many.requests.retry.after\",\"status\":429}}\n",
                i % 60 + 1,
                i % 60 + 1,
            ));
        out.push_str(&format!(
                "Traceback (most recent call last):\n  \
                 File \"/srv/etl/sync.py\", line {}, in fetch\n    \
                 resp.raise_for_status()\n\
                 requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/api/v2/analytics/conversations/aggregates/query/{i}\n\
                 {{\"message\":\"You are missing the following permission(s): analytics:conversationDetail{i}:view\",\"code\":\"missing.permissions\",\"status\":403}}\n",
                i % 900 + 10,
            ));
        out.push_str(&format!(
                "2026-11-24 00:00:02,041 ERROR auth.cache: Request failed with status code 401 (GET https://api.example.com/api/v2/users/{i})\n"
            ));
        out.push_str(&format!(
                "> GET /v1/items/{i} HTTP/1.1\n> Host: api.example.com\n< HTTP/1.1 500 Internal Server Error\n< Content-Type: application/json\n<\n{{\"error\":\"internal_{i}\"}}\n"
            ));
        out.push_str(&format!(
                "{{\"level\":\"error\",\"status\":404,\"url\":\"https://api.example.com/v1/orders/{i}\",\"response\":{{\"error\":\"order_{i}_not_found\"}}}}\n"
            ));
    }
    out
}

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

/// Analyses `lines` lines of distinct failures on this thread, counting.
fn work_for(rules: &RuleSet, lines: usize) -> (Work, Analysis) {
    let text = distinct_failures(lines);
    let opts = ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    };
    // Compiles what the rules compile on first use, so that the runs
    // compared count the same once-only work.
    let _ = analyze_text_with("warm", &distinct_failures(1), rules, opts);
    let start = (
        ALLOCATIONS.with(Cell::get),
        ALLOCATED.with(Cell::get),
        LIVE.with(Cell::get),
    );
    PEAK.with(|p| p.set(start.2));
    let analysis = analyze_text_with("distinct.log", &text, rules, opts);
    let work = Work {
        lines: text.lines().count(),
        allocations: ALLOCATIONS.with(Cell::get) - start.0,
        allocated: ALLOCATED.with(Cell::get) - start.1,
        peak: PEAK.with(Cell::get) - start.2,
    };
    (work, analysis)
}

/// The failures a report counts: listed (with their repeats) or summed up.
fn failures_accounted(a: &Analysis) -> usize {
    let listed: usize = a.incidents.iter().map(|i| 1 + i.repeat_count).sum();
    listed + a.not_kept.failures
}

/// Work per line at `big` lines is within a generous ratio (twice) of
/// that at 10⁴ lines, and the most held at once does not grow with it.
fn assert_linear(big: usize) {
    let rules = builtin();
    let (small, a_small) = work_for(&rules, 10_000);
    let (large, a_large) = work_for(&rules, big);
    // Every failure is reported once: none is cut in two by a chunk seam.
    for (w, a) in [(&small, &a_small), (&large, &a_large)] {
        let failures = w.lines / ROUND_LINES * ROUND_FAILURES;
        assert_eq!(failures_accounted(a), failures, "{w:?}");
    }
    let per_line = |n: u64, w: &Work| n as f64 / w.lines as f64;
    let ratio = |f: fn(&Work) -> u64| per_line(f(&large), &large) / per_line(f(&small), &small);
    let allocations = ratio(|w| w.allocations);
    let allocated = ratio(|w| w.allocated);
    assert!(
        allocations < 2.0,
        "allocations per line grew {allocations:.2}x from {small:?} to {large:?}"
    );
    assert!(
        allocated < 2.0,
        "bytes allocated per line grew {allocated:.2}x from {small:?} to {large:?}"
    );
    // What the run holds is capped (incidents kept whole and reduced, one
    // chunk at a time), whatever the input's length.
    eprintln!(
        "{small:?}\n{large:?}\nper line: allocations {allocations:.3}x, bytes {allocated:.3}x"
    );
    assert!(
        large.peak < small.peak * 2,
        "held {} bytes at 10⁴ lines, {} at {big}",
        small.peak,
        large.peak
    );
}

#[test]
fn distinct_failures_cost_linear_work_up_to_a_hundred_thousand_lines() {
    assert_linear(100_000);
}

/// Minutes without optimisations: run by `tests/linearity.sh`.
#[test]
#[ignore]
fn distinct_failures_cost_linear_work_at_a_million_lines() {
    assert_linear(1_000_000);
}
