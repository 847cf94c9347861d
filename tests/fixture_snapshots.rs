//! Every fixture (real captured client output) through the whole pipeline:
//! insta snapshots of (a) the incidents view, (b) the plain human report and
//! (c) the JSON report; no planted secret in any output format; and no panic
//! on any fixture or on truncated prefixes of it.

use std::path::{Path, PathBuf};

use faultline::input::{Origin, SourceRef};
use faultline::mask::Masker;
use faultline::report::{self, Format, HumanStyle, ReportCtx};
use faultline::rules::load::load;
use faultline::rules::{RuleSet, builtin_sources};

fn rules() -> RuleSet {
    let report = load(&builtin_sources());
    RuleSet::new(report.rules, report.providers)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Fixture files: everything under fixtures/ but the capture scripts and the
/// bookkeeping files.
fn is_fixture(path: &Path) -> bool {
    let rel = path.strip_prefix(root().join("fixtures")).unwrap_or(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    path.is_file()
        && !rel.starts_with("capture")
        && !name.starts_with("README")
        && !name.starts_with("MANIFEST")
        && !name.starts_with("VERSIONS")
}

fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(root().join("fixtures"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| is_fixture(p))
        .collect();
    out.sort();
    out
}

fn display(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn analyse(path: &Path, rules: &RuleSet) -> faultline::Analysis {
    let source = SourceRef {
        name: display(path),
        origin: Origin::File(path.to_path_buf()),
    };
    faultline::analyze(&[source], rules)
}

fn render(analysis: &faultline::Analysis, rules: &RuleSet, format: Format) -> String {
    let ctx = ReportCtx::new(
        analysis,
        rules,
        Masker {
            show_secrets: false,
        },
    );
    report::render(format, &ctx, HumanStyle::plain())
}

/// The size of the rule pack changes with every rule added elsewhere, and
/// the version with every release; neither is what these snapshots are about.
fn without_rule_count(out: String) -> String {
    let re = regex::Regex::new(
        r#"(\d+) rules? loaded|"(rules|loaded|builtin)": \d+|"version": "[^"]*""#,
    )
    .unwrap();
    re.replace_all(&out, |c: &regex::Captures| {
        if c.get(1).is_some() {
            "[N] rules loaded".to_string()
        } else if let Some(key) = c.get(2) {
            format!("\"{}\": \"[N]\"", key.as_str())
        } else {
            "\"version\": \"[version]\"".to_string()
        }
    })
    .into_owned()
}

#[test]
fn fixture_snapshots() {
    let rules = rules();
    insta::glob!("../fixtures", "**/*", |path| {
        if !is_fixture(path) {
            return;
        }
        let analysis = analyse(path, &rules);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/fixtures");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| {
            insta::assert_snapshot!("incidents", render(&analysis, &rules, Format::Incidents));
            insta::assert_snapshot!(
                "human",
                without_rule_count(render(&analysis, &rules, Format::Human))
            );
            insta::assert_snapshot!(
                "json",
                without_rule_count(render(&analysis, &rules, Format::Json))
            );
        });
    });
}

/// The planted client secret, token and cookie, and base64 of the planted
/// `client_id:client_secret` (whole, and the part a trace dump wraps onto
/// its own line).
const PLANTED: &[&str] = &[
    "FLTPLANTED",
    "M2YxYzJkOWUtMDAwMC00MDAwLTgwMDAtcGxhbnRlZDAwMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5",
    "OkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5",
    "wMDAxOkZMVFBM",
    "RkxUUExBTlRFRFNFQ1JFVC05cTh3N2U2cjV0NHk",
];

#[test]
fn no_planted_secret_in_any_output() {
    let rules = rules();
    let mut leaks = Vec::new();
    for path in fixtures() {
        let analysis = analyse(&path, &rules);
        for format in [
            Format::Human,
            Format::Json,
            Format::Short,
            Format::Incidents,
        ] {
            let out = render(&analysis, &rules, format);
            for secret in PLANTED {
                if out.contains(secret) {
                    leaks.push(format!("{} ({format:?}): {secret}", display(&path)));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "planted secrets in the output:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn every_fixture_has_a_fixture_file() {
    // Guard against the glob silently matching nothing.
    assert!(
        fixtures().len() >= 50,
        "only {} fixtures found",
        fixtures().len()
    );
}

#[test]
fn truncated_fixtures_never_panic() {
    let rules = rules();
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        // 24 evenly spaced cuts (mid-line, mid-token) and as many line ends.
        let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
        let step = (ends.len() / 24).max(1);
        let mut cuts: Vec<usize> = ends.into_iter().step_by(step).collect();
        cuts.extend((1..24).map(|k| k * text.len() / 24));
        for cut in cuts {
            let cut = text.floor_char_boundary(cut);
            let analysis = faultline::analyze_text("cut", &text[..cut], &rules);
            for format in [Format::Human, Format::Json, Format::Incidents] {
                let _ = render(&analysis, &rules, format);
            }
        }
    }
}
