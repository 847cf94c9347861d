//! The JSON report is a contract (issue 11 §6): every fixture's report
//! validates against the shipped JSON Schema, docs/report.md describes every
//! field the schema has, `faultline report-schema` prints that schema, ids
//! tie diagnoses to incidents, and problems and unexplained failures are in
//! the report.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use faultline::input::{Origin, SourceRef};
use faultline::mask::Masker;
use faultline::report::{self, ReportCtx};
use faultline::rules::load::load;
use faultline::rules::{RuleSet, builtin_sources};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn schema() -> serde_json::Value {
    serde_json::from_str(report::REPORT_SCHEMA).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).expect("a valid 2020-12 schema")
}

fn errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(root().join("fixtures"))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| {
            let rel = p.strip_prefix(root().join("fixtures")).unwrap();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.is_file()
                && !rel.starts_with("capture")
                && !["README", "MANIFEST", "VERSIONS"]
                    .iter()
                    .any(|s| name.starts_with(s))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_report_validates_against_the_schema() {
    let rules = {
        let r = load(&builtin_sources());
        RuleSet::new(r.rules, r.providers)
    };
    let validator = validator();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 50, "only {} fixtures", fixtures.len());
    let mut failures = Vec::new();
    for path in &fixtures {
        let source = SourceRef {
            name: path.display().to_string(),
            origin: Origin::File(path.clone()),
        };
        let analysis = faultline::analyze(std::slice::from_ref(&source), &rules);
        let ctx = ReportCtx::new(
            &analysis,
            &rules,
            Masker {
                show_secrets: false,
            },
        );
        let doc: serde_json::Value = serde_json::from_str(&report::render_json(&ctx)).unwrap();
        for e in errors(&validator, &doc) {
            failures.push(format!("{}: {e}", path.display()));
        }
        // Each incident's standalone record validates too.
        for i in 0..analysis.incidents.len() {
            let record = serde_json::to_value(report::json::incident_record(&ctx, i)).unwrap();
            let wrapped = serde_json::json!({ "$ref": "#/$defs/incident_record" });
            let mut with_defs = schema();
            with_defs["$ref"] = wrapped["$ref"].clone();
            for key in ["properties", "required", "additionalProperties", "type"] {
                with_defs.as_object_mut().unwrap().remove(key);
            }
            let record_validator = jsonschema::draft202012::new(&with_defs).unwrap();
            for e in errors(&record_validator, &record) {
                failures.push(format!("{} incident {i}: {e}", path.display()));
            }
        }
        // The same input streamed as `--format jsonl` (through the streaming
        // entry point and the renderers the command line uses): every line
        // validates, and a fixture (one batch) streams exactly the report.
        let lines = stream_jsonl(&source, &rules);
        failures.extend(
            jsonl_errors(&lines)
                .into_iter()
                .map(|e| format!("{} jsonl: {e}", path.display())),
        );
        let (incidents, diagnoses) = split_records(&lines);
        if incidents != doc["incidents"].as_array().unwrap().clone() {
            failures.push(format!("{}: streamed incidents differ", path.display()));
        }
        if by_incident(&diagnoses) != by_incident(doc["diagnoses"].as_array().unwrap()) {
            failures.push(format!("{}: streamed diagnoses differ", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `--format jsonl` of one source, as the command line streams it.
fn stream_jsonl(source: &SourceRef, rules: &RuleSet) -> Vec<serde_json::Value> {
    let masker = Masker {
        show_secrets: false,
    };
    let mut text = report::jsonl::header(std::slice::from_ref(&source.name), rules);
    let sink = Box::new(|batch: &faultline::Batch| {
        let mut ctx = ReportCtx::new(batch.analysis, rules, masker);
        ctx.first_id = batch.first_id;
        text.push_str(&report::jsonl::records(&ctx));
        std::ops::ControlFlow::Continue(())
    });
    let (analysis, totals) = faultline::analyze_streaming(
        std::slice::from_ref(source),
        rules,
        faultline::ScanOptions::default(),
        &faultline::Watch::NONE,
        Some(sink),
    );
    let ctx = ReportCtx::new(&analysis, rules, masker);
    text.push_str(&report::jsonl::summary(&report::jsonl::Summary::new(
        &ctx, &totals, 0,
    )));
    assert!(text.ends_with('\n'));
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

fn jsonl_errors(lines: &[serde_json::Value]) -> Vec<String> {
    let mut with_defs = schema();
    with_defs["$ref"] = serde_json::json!("#/$defs/jsonl_record");
    for key in [
        "properties",
        "required",
        "additionalProperties",
        "type",
        "title",
    ] {
        with_defs.as_object_mut().unwrap().remove(key);
    }
    let validator = jsonschema::draft202012::new(&with_defs).unwrap();
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        out.extend(
            errors(&validator, line)
                .into_iter()
                .map(|e| format!("line {}: {e}", n + 1)),
        );
    }
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["type"].as_str().unwrap_or(""))
        .collect();
    if types.first() != Some(&"header") || types.last() != Some(&"summary") {
        out.push(format!(
            "a stream opens with a header and closes with a summary: {types:?}"
        ));
    }
    out
}

/// The incident and diagnosis records of a stream, without their `type`.
fn split_records(lines: &[serde_json::Value]) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let (mut incidents, mut diagnoses) = (Vec::new(), Vec::new());
    for line in lines {
        let mut record = line.clone();
        let kind = record.as_object_mut().unwrap().remove("type");
        match kind.as_ref().and_then(|k| k.as_str()) {
            Some("incident") => incidents.push(record),
            Some("diagnosis") => diagnoses.push(record),
            _ => {}
        }
    }
    (incidents, diagnoses)
}

/// Diagnoses grouped by the incident they explain, in order within each.
fn by_incident(
    diagnoses: &[serde_json::Value],
) -> std::collections::BTreeMap<String, Vec<serde_json::Value>> {
    let mut out: std::collections::BTreeMap<String, Vec<serde_json::Value>> = Default::default();
    for d in diagnoses {
        out.entry(d["incident"].to_string())
            .or_default()
            .push(d.clone());
    }
    out
}

#[test]
fn the_schema_rejects_what_the_docs_do_not_describe() {
    let validator = validator();
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home)
        .args(["-f", "json", "fixtures/seed/forum-thread.txt"])
        .output()
        .unwrap();
    let good: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(errors(&validator, &good).is_empty());
    let mut extra = good.clone();
    extra["incidents"][0]["undocumented"] = serde_json::json!(1);
    assert!(!errors(&validator, &extra).is_empty());
    let mut wrong = good.clone();
    wrong["diagnoses"][0]["severity"] = serde_json::json!("fatal");
    assert!(!errors(&validator, &wrong).is_empty());
    let mut missing = good;
    missing["diagnoses"][0]
        .as_object_mut()
        .unwrap()
        .remove("line");
    assert!(!errors(&validator, &missing).is_empty());
}

/// Every property name the schema declares, anywhere in it.
fn schema_fields(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            for value in map.values() {
                schema_fields(value, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| schema_fields(i, out)),
        _ => {}
    }
}

#[test]
fn the_docs_describe_every_field_of_the_schema() {
    let docs = std::fs::read_to_string(root().join("docs/report.md")).unwrap();
    let mut fields = BTreeSet::new();
    schema_fields(&schema(), &mut fields);
    assert!(fields.len() > 40, "{fields:?}");
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| !docs.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/report.md does not describe {missing:?}"
    );
}

fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn report_schema_prints_the_shipped_schema() {
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home).arg("report-schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, file);
}

#[test]
fn ids_problems_and_unexplained_failures_are_in_the_report() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("run.log"),
        "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n{\"error\": \"invalid_grant\"}\n\n{\"error\": {\"code\": \"widget_jammed_7\", \"message\": \"The widget jammed.\"}}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.toml"), "[[rule]]\nid = \"x.y\"\n").unwrap();
    let out = faultline(&home)
        .current_dir(dir.path())
        .args(["-f", "json", "--rules", "bad.toml", "run.log", "gone.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(errors(&validator(), &doc).is_empty(), "{doc:#}");
    let incidents = doc["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0]["id"], 1);
    assert_eq!(incidents[0]["explained"], true);
    assert_eq!(incidents[1]["id"], 2);
    assert_eq!(
        incidents[1]["explained"], false,
        "an error code no rule knows, without a status"
    );
    for d in doc["diagnoses"].as_array().unwrap() {
        if d["incident"].is_null() {
            continue;
        }
        assert_eq!(d["incident"], 1, "{d:#}");
        assert_eq!(d["source"], "run.log");
        assert!(d["line"].as_u64().unwrap() <= 2);
        assert!(d["column"].as_u64().unwrap() >= 1);
    }
    let codes: Vec<&str> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"input::unreadable"), "{codes:?}");
    assert!(codes.iter().any(|c| c.starts_with("rule::")), "{codes:?}");
    let rule_problem = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "rules")
        .unwrap();
    assert_eq!(rule_problem["source"], "bad.toml");
    // The same ids as `--format incidents`.
    let incidents_view = faultline(&home)
        .current_dir(dir.path())
        .args(["-f", "incidents", "run.log"])
        .output()
        .unwrap();
    let view = String::from_utf8(incidents_view.stdout).unwrap();
    assert!(view.contains("── incident 1 ── run.log:1-2"), "{view}");
    assert!(view.contains("── incident 2 ── run.log:4-4"), "{view}");
}
