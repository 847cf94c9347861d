//! The parts of README.md and docs/gallery.md that show faultline's output
//! are generated from the fixtures by this test, so they stay true: the
//! "Try it" excerpt, the gallery (one real report per input format), and
//! what the built-in rules cover. When output or rules change on purpose,
//! regenerate them:
//!
//! ```sh
//! FAULTLINE_UPDATE_DOCS=1 cargo test --test docs_generated
//! ```

#[path = "support/field_corpus.rs"]
mod field_corpus;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// faultline's stdout for `args`, run from the crate root as a reader would
/// (plain, 80 columns, no user rules).
fn run(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(root())
        .env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// One input format, its fixture, and what it is.
const GALLERY: &[(&str, &str, &str)] = &[
    (
        "curl -v transcript",
        "fixtures/captured/curl/api_403_missing_permissions_verbose.txt",
        "`curl -v` against an API endpoint that answers 403.",
    ),
    (
        "curl --trace-ascii dump",
        "fixtures/captured/curl/token_client_not_found_trace_ascii.txt",
        "A token request traced with `curl --trace-ascii`.",
    ),
    (
        "curl's own error",
        "fixtures/captured/curl/err6_could_not_resolve_host.txt",
        "curl failing before any HTTP exchange (`curl: (6)`).",
    ),
    (
        "Python traceback (requests)",
        "fixtures/captured/python-requests/token_client_not_found.txt",
        "A script using `requests` that printed the body, then called `raise_for_status()`.",
    ),
    (
        "Python http.client debug output",
        "fixtures/captured/python-requests/api_403_missing_permissions_http_debug.txt",
        "`http.client` with `debuglevel = 1` (`send:` / `reply:` / `header:` lines).",
    ),
    (
        "Genesys Python SDK exception",
        "fixtures/captured/python-sdk/api_429_rate_limited_after_retries.txt",
        "The SDK's `ApiException` text after its own retries.",
    ),
    (
        "Node axios error dump",
        "fixtures/captured/node-axios/token_auth_failed_error_dump.txt",
        "A whole `AxiosError` printed with `console.error`.",
    ),
    (
        "Node fetch",
        "fixtures/captured/node-global-fetch/err_fetch_failed_untrusted_certificate.txt",
        "`TypeError: fetch failed` with its `[cause]`.",
    ),
    (
        "Java stack trace",
        "fixtures/captured/java-httpclient/err_pkix_path_building_failed.txt",
        "`java.net.http.HttpClient` failing the TLS handshake.",
    ),
    (
        "Go error",
        "fixtures/captured/go-net-http/token_auth_failed.txt",
        "`golang.org/x/oauth2` failing to fetch a token.",
    ),
    (
        "HAR export",
        "fixtures/captured/har/python_requests_api_403_missing_permissions.har",
        "A browser-style HAR file with the failed entry.",
    ),
    (
        "A bare response body",
        "fixtures/seed/body-only.json",
        "Only the JSON body of a failed token request, as pasted.",
    ),
    (
        "A whole forum post",
        "fixtures/seed/forum-thread.txt",
        "A pasted question with a traceback, answers and code.",
    ),
];

fn gallery_page() -> String {
    let mut out = String::from(
        "# Gallery: what faultline prints, per input format\n\n\
         Generated from the fixtures by `tests/docs_generated.rs`, so every report\n\
         here is what faultline prints today (at 80 columns, without colour, with\n\
         `-q` to leave out the summary line). The inputs are in `fixtures/`: most\n\
         were captured from real clients talking to a loopback stub\n\
         ([fixtures/README.md](../fixtures/README.md)).\n",
    );
    for (title, file, what) in GALLERY {
        out.push_str(&format!(
            "\n## {title}\n\n{what}\n\n```console\n$ faultline -q {file}\n"
        ));
        out.push_str(&run(&["-q", file]));
        out.push_str("```\n");
    }
    out
}

/// The README's gallery: each format's one-line-per-failure listing.
fn readme_gallery() -> String {
    let mut out = String::new();
    for (title, file, _) in GALLERY {
        out.push_str(&format!(
            "{title}:\n\n```console\n$ faultline -f short {file}\n"
        ));
        out.push_str(&run(&["-f", "short", file]));
        out.push_str("```\n\n");
    }
    out
}

/// The first lines of the seed case's report.
fn try_it() -> String {
    let report = run(&["fixtures/seed/forum-thread.txt"]);
    let mut out = String::from("```text\n");
    for line in report.lines().take(25) {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("…\n```\n");
    out
}

/// Built-in rules per provider, the topics (rule files) they cover, and how
/// the field corpus's real reports for that provider fare (top-1 of its
/// positive cases, and the input shapes they come in).
fn coverage() -> String {
    let rows: serde_json::Value =
        serde_json::from_str(&run(&["rules", "list", "-f", "json"])).unwrap();
    let mut by_provider: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in rows.as_array().unwrap() {
        let provider = r["provider"].as_str().unwrap_or("any API").to_string();
        let file = r["file"].as_str().unwrap();
        let topic = Path::new(file)
            .with_extension("")
            .strip_prefix("rules")
            .unwrap_or(Path::new(file))
            .display()
            .to_string();
        *by_provider
            .entry(provider)
            .or_default()
            .entry(topic)
            .or_default() += 1;
    }
    // Which clients' output the fixtures hold for each provider: the
    // provider of the rule a fixture expects (its first alternative), from
    // the captured (real client, loopback stub) and reconstructed manifests.
    let provider_of: BTreeMap<String, String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["provider"].as_str().unwrap_or("any API").to_string(),
            )
        })
        .collect();
    let mut clients: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (dir, captured) in [("captured", true), ("reconstructed", false)] {
        let manifest =
            std::fs::read_to_string(root().join("fixtures").join(dir).join("MANIFEST.tsv"))
                .unwrap();
        let mut lines = manifest.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (ci, ei) = (col("client"), col("expect"));
        for line in lines {
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(client), Some(expect)) = (cols.get(ci), cols.get(ei)) else {
                continue;
            };
            let first = expect.split('|').next().unwrap_or("").trim();
            if first.is_empty() || first == "-" {
                continue;
            }
            // A rule the packs do not have (yet) counts for the provider its id names.
            let provider = provider_of.get(first).cloned().unwrap_or_else(|| {
                match first.split('.').next().unwrap_or("") {
                    "http" | "oauth" | "jwt" => "any API".to_string(),
                    p => p.to_string(),
                }
            });
            let entry = clients.entry(provider).or_default();
            if captured {
                entry.0.insert(client.to_string());
            } else {
                entry.1.insert(client.to_string());
            }
        }
    }
    let field = field_corpus::figures(&field_corpus::builtin());
    // The corpus files provider-less reports under `generic`; the rules
    // that serve them are the provider-less ones.
    let field_key = |provider: &str| {
        if provider == "any API" {
            "generic".to_string()
        } else {
            provider.to_string()
        }
    };
    let mut out = String::from(
        "| Provider | Rules | Fixtures: clients captured against the loopback stub; *reconstructed* | Field corpus: top-1 (shapes) | Topics (rule files under `rules/`, with their rule counts) |\n|---|---|---|---|---|\n",
    );
    for (provider, topics) in &by_provider {
        let total: usize = topics.values().sum();
        let list: Vec<String> = topics.iter().map(|(t, n)| format!("`{t}` ({n})")).collect();
        let key = field_key(provider);
        let cell = match field.by_provider.get(&key) {
            Some(t) if t.positives > 0 => {
                let shapes: Vec<&str> = field.shapes_by_provider[&key]
                    .iter()
                    .map(String::as_str)
                    .collect();
                format!("{}/{} ({})", t.top1, t.positives, shapes.join(", "))
            }
            _ => "–".to_string(),
        };
        let formats = match clients.get(provider) {
            Some((cap, rec)) if !cap.is_empty() || !rec.is_empty() => {
                let mut all: Vec<String> = cap.iter().cloned().collect();
                all.extend(rec.iter().map(|c| format!("*{c}*")));
                all.join(", ")
            }
            _ => "–".to_string(),
        };
        out.push_str(&format!(
            "| {provider} | {total} | {formats} | {cell} | {} |\n",
            list.join(", ")
        ));
    }
    let o = &field.overall;
    let pct = |n: usize| 100.0 * n as f64 / o.positives.max(1) as f64;
    out.push_str(&format!(
        "\nField corpus overall ({} cases in tests/field/: real failure reports with a confirmed cause, and clean or recovered logs as negatives): top-1 {}/{} ({:.0}%), top-3 {}/{} ({:.0}%); {} negative cases, {} false alarms. By input shape:\n\n| Shape | Top-1 | Top-3 | Negatives (false alarms) |\n|---|---|---|---|\n",
        o.positives + o.negatives,
        o.top1,
        o.positives,
        pct(o.top1),
        o.top3,
        o.positives,
        pct(o.top3),
        o.negatives,
        o.false_alarms,
    ));
    for (shape, t) in &field.by_shape {
        out.push_str(&format!(
            "| {shape} | {}/{} | {}/{} | {} ({}) |\n",
            t.top1, t.positives, t.top3, t.positives, t.negatives, t.false_alarms
        ));
    }
    out
}

/// Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
fn splice(doc: &str, name: &str, body: &str) -> String {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let a = doc.find(&start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    let b = doc[a..].find(&end).unwrap_or_else(|| panic!("no {end}")) + a;
    format!("{}{body}{}", &doc[..a], &doc[b..])
}

fn check_or_update(path: &Path, expected: &str) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == expected {
        return;
    }
    if std::env::var_os("FAULTLINE_UPDATE_DOCS").is_some() {
        std::fs::write(path, expected).unwrap();
        return;
    }
    let first_diff = current
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(current.lines().count().min(expected.lines().count()));
    panic!(
        "{} is stale from line {} (faultline's output changed). Read the new output, then:\n  FAULTLINE_UPDATE_DOCS=1 cargo test --test docs_generated",
        path.display(),
        first_diff + 1
    );
}

#[test]
fn gallery_page_is_what_faultline_prints() {
    check_or_update(&root().join("docs/gallery.md"), &gallery_page());
}

#[test]
fn readme_excerpts_are_what_faultline_prints() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let updated = splice(&readme, "try-it", &try_it());
    let updated = splice(&updated, "gallery", &readme_gallery());
    let updated = splice(&updated, "coverage", &coverage());
    check_or_update(&path, &updated);
}

#[test]
fn every_gallery_input_exists_and_fails() {
    for (title, file, _) in GALLERY {
        assert!(root().join(file).is_file(), "{title}: {file}");
        assert!(
            !run(&["-f", "short", file]).is_empty(),
            "{title}: nothing found in {file}"
        );
    }
}
