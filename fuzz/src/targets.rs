//! The bodies of the fuzz targets, shared by the libFuzzer binaries
//! (`fuzz/fuzz_targets/*.rs`) and by `tests/fuzz_regressions.rs`, which
//! replays every kept crasher under `cargo test`. Each body must never panic
//! on any input; where a target checks a property it panics when the
//! property fails, so the fuzzer reports it as a crash.

use std::sync::OnceLock;

use faultline::input::{self, Chunk};
use faultline::parse;
use faultline::rules::RuleSet;
use faultline::rules::load::{self, RuleSource};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/run.sh` and the regression test know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("input", input),
    ("parse", parse),
    ("json", json),
    ("incidents", incidents),
    ("mask", mask),
    ("rules", rules),
    ("redact", redact),
];

/// Work done once per process (the built-in rules compile in about a
/// second), so it is not charged to the first input as a timeout.
pub fn init() {
    let _ = builtin();
}

pub fn by_name(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The text as faultline reads it: lossy UTF-8, and until the first LF, a
/// lone CR (a CR-only file) read as a line break.
fn as_read(data: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(data);
    let b = lossy.as_bytes();
    let first_lf = b.iter().position(|&c| c == b'\n').unwrap_or(b.len());
    lossy
        .char_indices()
        .map(|(i, ch)| match ch {
            '\r' if i < first_lf && b.get(i + 1) != Some(&b'\n') => '\n',
            ch => ch,
        })
        .collect()
}

fn chunk(text: String) -> Chunk {
    Chunk {
        source: 0,
        offset: 0,
        first_line: 1,
        text,
    }
}

/// The input stage: HAR sniffing, gzip detection and decoding (a truncated
/// or fake gzip must not panic), and cutting into line-aligned chunks that
/// add up to the decoded text.
pub fn input(data: &[u8]) {
    let _ = parse::har::sniff(data);
    // A small chunk size (chosen by the input) exercises the cutting.
    let size = 16 + data.first().map_or(0, |&b| b as usize);
    let mut joined = String::new();
    let mut line = 1;
    let read = input::read_chunks(0, data, size, |c| {
        assert_eq!(c.offset, joined.len(), "chunk offsets are contiguous");
        assert_eq!(c.first_line, line, "chunk line numbers are contiguous");
        line += c.text.matches('\n').count();
        joined.push_str(&c.text);
    });
    if read.is_ok() {
        assert_eq!(joined, as_read(data), "chunks add up to the decoded text");
    }
    let mut decoded = Vec::new();
    if let Ok(mut reader) = input::decode(data) {
        let _ = std::io::Read::read_to_end(&mut reader, &mut decoded);
    }
}

/// Every line parser (and the HAR document parser, for input that sniffs
/// as HAR): no panic, and every span lies inside the text on character
/// boundaries.
pub fn parse(data: &[u8]) {
    let c = chunk(text(data));
    let events = parse::parse_chunk(&c);
    for e in &events {
        check_span(&c.text, e.span.start, e.span.end);
        for f in &e.fields {
            check_span(&c.text, f.span.start, f.span.end);
        }
    }
}

fn check_span(text: &str, start: usize, end: usize) {
    assert!(
        start <= end && end <= text.len(),
        "span {start}..{end} outside the text"
    );
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "span {start}..{end} cuts a character"
    );
}

/// The JSON scanner in its three modes.
pub fn json(data: &[u8]) {
    let t = text(data);
    let _ = parse::json::parse_value(&t);
    let _ = parse::json::parse_inspect(&t);
    let _ = parse::json::parse_document(&t, 1 << 16);
}

fn builtin() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| {
        let report = load::load(&faultline::rules::builtin_sources());
        RuleSet::new(report.rules, report.providers)
    })
}

/// Parsing, incident building, facts, rules and ranking with the built-in
/// pack, then every report format (masked).
pub fn incidents(data: &[u8]) {
    let t = text(data);
    let rules = builtin();
    let analysis = faultline::analyze_text("fuzz", &t, rules);
    let ctx = faultline::report::ReportCtx::new(
        &analysis,
        rules,
        faultline::mask::Masker {
            show_secrets: false,
        },
    );
    for format in [
        faultline::report::Format::Human,
        faultline::report::Format::Json,
        faultline::report::Format::Short,
        faultline::report::Format::Incidents,
    ] {
        let _ = faultline::report::render(format, &ctx, faultline::report::HumanStyle::plain());
    }
}

/// The masker's promise: a secret written in any shape of its table is
/// masked whatever text surrounds it. The first byte picks a shape, the
/// rest is split into the text before and after it.
pub fn mask(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let shapes = faultline::mask::SHAPES;
    let shape = &shapes[pick as usize % shapes.len()];
    let t = text(rest);
    let (before, after) = t.split_at(t.floor_char_boundary(t.len() / 2));
    for (example, secret) in shape.examples {
        // The surrounding text must not carry the secret itself.
        let before = before.replace(secret, "");
        let after = after.replace(secret, "");
        let line = format!("{before}\n{example}\n{after}");
        let masked = faultline::mask::mask(&line);
        assert!(
            !masked.contains(secret),
            "shape {} leaked {secret:?} in {masked:?}",
            shape.name
        );
        assert_eq!(
            masked.matches('\n').count(),
            line.matches('\n').count(),
            "masking keeps lines"
        );
    }
    // Masking arbitrary text never panics, keeps the line count, is
    // idempotent, and its offset map stays inside the masked text.
    let masked = faultline::mask::Masked::new(&t);
    assert_eq!(masked.text.matches('\n').count(), t.matches('\n').count());
    assert_eq!(
        faultline::mask::mask(&masked.text),
        masked.text,
        "masking is idempotent"
    );
    let mut last = 0;
    for (i, _) in t.char_indices().chain([(t.len(), ' ')]) {
        let m = masked.map(i, false);
        assert!(
            m >= last && m <= masked.text.len(),
            "offset map is monotonic and in bounds"
        );
        assert!(
            masked.text.is_char_boundary(m),
            "offset map lands on a character"
        );
        last = m;
    }
}

/// The rule loader on an arbitrary rule file; whatever loads is compiled
/// into a rule set and its examples are run. Every problem points into the
/// text it quotes, on character boundaries: a span past it is a report
/// that cannot be shown (issue 12: a limit reached is an error with its span).
pub fn rules(data: &[u8]) {
    let mut source = RuleSource::new("fuzz.toml", text(data), false);
    // A user's rule file (`--rules`).
    source.layer = 4;
    let report = load::load(&[source]);
    for p in report
        .problems
        .iter()
        .flat_map(|p| std::iter::once(p).chain(&p.related))
    {
        if let (Some(span), Some(code)) = (p.span, &p.source_code) {
            let code = code.inner();
            let (start, end) = (span.offset(), span.offset() + span.len());
            assert!(
                end <= code.len() && code.is_char_boundary(start) && code.is_char_boundary(end),
                "{}: span {start}..{end} outside its text of {} bytes",
                p.code,
                code.len()
            );
        }
    }
    let _ = faultline::rules::selftest::run_examples(&report.rules, &report.providers);
}

/// `faultline redact`: no panic, the same number of lines, and no secret
/// the masker finds in the input is left in the output.
pub fn redact(data: &[u8]) {
    let t = text(data);
    for ids in [false, true] {
        let mut out = Vec::new();
        let options = faultline::redact::Options { ids };
        faultline::redact::redact(t.as_bytes(), &mut out, &options).expect("in-memory redact");
        let out = String::from_utf8(out).expect("redact writes UTF-8");
        assert_eq!(
            out.matches('\n').count(),
            as_read(data).matches('\n').count(),
            "redact keeps line numbers"
        );
        // Nothing is left for the masker to hide: masking the output again
        // changes nothing. (Not "every secret range is only a mask": masks
        // keep a token's type prefix and a JWT's readable header and
        // claims, so the masker still finds `eyJ….eyJ….********`.)
        assert_eq!(
            faultline::mask::mask(&out),
            out.as_str(),
            "redacted output still holds a secret"
        );
    }
}
