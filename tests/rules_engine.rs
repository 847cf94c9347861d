//! The rule engine at scale and under abuse: ten thousand rules load
//! whole, evaluation per incident does not grow with the rules, a user
//! rule's input-wide pattern cannot switch off the built-in ones, and
//! placeholders without a value read "(unknown)".

use faultline::rules::load::{RuleSource, load_over_builtin};
use faultline::rules::{FileProof, RuleSet, SourceText};

/// `n` rules of the shapes real packs have: an error code with a status,
/// a list of codes, a message regex with a named group, and an input-wide
/// phrase. Each has a positive and a near-miss example.
fn synthetic(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let (when, scope, positive, negative) = match i % 4 {
            0 => (
                format!(r#"{{ status = 400, error = "synthetic_code_{i}" }}"#),
                "",
                format!("HTTP/1.1 400 Bad Request\n\n{{\"error\": \"synthetic_code_{i}\"}}"),
                "HTTP/1.1 400 Bad Request\n\n{\"error\": \"other\"}".to_string(),
            ),
            1 => (
                format!(r#"{{ error = ["code_{i}_a", "code_{i}_b"] }}"#),
                "",
                format!("HTTP/1.1 401 Unauthorized\n\n{{\"error\": \"code_{i}_b\"}}"),
                "HTTP/1.1 401 Unauthorized\n\n{\"error\": \"code_x\"}".to_string(),
            ),
            2 => (
                format!(
                    r#"{{ "exception.message" = {{ regex = '(?i)synthetic failure {i} of (?P<what>\w+)' }} }}"#
                ),
                "",
                format!(
                    "Traceback (most recent call last):\nValueError: synthetic failure {i} of widgets"
                ),
                "Traceback (most recent call last):\nValueError: another failure".to_string(),
            ),
            _ => (
                format!(r#"{{ "input.text" = {{ contains = "synthetic marker {i}" }} }}"#),
                "scope = \"input\"\n",
                format!("we saw synthetic marker {i} in the log"),
                "nothing here".to_string(),
            ),
        };
        out.push_str(&format!(
            r#"[[rule]]
id = "synthetic.rule-{i}"
title = "Synthetic rule {i}"
{scope}when = {when}
cause = "A synthetic cause."
fix = "A synthetic fix."
docs = ["https://example.com/synthetic/{i}"]

[[rule.example]]
input = '''
{positive}
'''
matches = true

[[rule.example]]
input = '''
{negative}
'''
matches = false

"#
        ));
    }
    out
}

/// Ten thousand user rules load whole, with no problem and none lost. How
/// load time grows with the rules is measured by `benches/startup.sh`
/// (speed lives in benches, never in timed tests).
#[test]
fn ten_thousand_rules_load_whole() {
    let source = RuleSource::new("synthetic.toml", synthetic(10_000), false);
    let report = load_over_builtin(std::slice::from_ref(&source), true);
    assert!(report.problems.is_empty(), "{:?}", report.problems.first());
    let builtin = load_over_builtin(&[], true).rules.len();
    let set = RuleSet::new(report.rules, report.providers);
    assert_eq!(set.rules.len(), builtin + 10_000);
    assert!(set.rules.iter().any(|r| r.id == "synthetic.rule-9999"));
}

#[test]
fn evaluation_per_incident_does_not_grow_with_the_rules() {
    let source = RuleSource::new("synthetic.toml", synthetic(5_000), false);
    let report = load_over_builtin(std::slice::from_ref(&source), true);
    let set = RuleSet::new(report.rules, report.providers);
    let builtin = load_over_builtin(&[], true);
    let builtin = RuleSet::new(builtin.rules, builtin.providers);
    for input in [
        "HTTP/1.1 400 Bad Request\n\n{\"error\": \"synthetic_code_4242\"}\n",
        "HTTP/1.1 401 Unauthorized\n\n{\"error\": \"code_4241_a\"}\n",
        "Traceback (most recent call last):\nrequests.exceptions.HTTPError: 500 Server Error: synthetic failure 4242 of gears for url: https://api.example.com/v1/gears\n",
        "HTTP/1.1 403 Forbidden\n\n{\"message\": \"missing.permissions\"}\n",
    ] {
        let analysis = faultline::analyze_text("paste", input, &set);
        let alone = faultline::analyze_text("paste", input, &builtin);
        let incident = &analysis.incidents[0];
        let evaluated = set.candidates(&incident.facts).len();
        let evaluated_alone = builtin.candidates(&alone.incidents[0].facts).len();
        // 5 000 more rules add at most the few keyed on this incident.
        assert!(
            evaluated <= evaluated_alone + 3,
            "{input:?}: {evaluated} rules evaluated with the synthetic ones, {evaluated_alone} without"
        );
    }
    // And the prefilter loses nothing: the keyed rule fires.
    let a = faultline::analyze_text(
        "paste",
        "Traceback (most recent call last):\nValueError: Synthetic Failure 4242 of gears\n",
        &set,
    );
    let d = a.diagnoses.iter().find(|d| d.id == "synthetic.rule-4242");
    assert!(
        d.is_some(),
        "{:?}",
        a.diagnoses.iter().map(|d| &d.id).collect::<Vec<_>>()
    );
}

fn seed() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed/forum-thread.txt"),
    )
    .unwrap()
}

/// A user rule whose input-wide pattern is too large for the regex engine.
const HUGE_INPUT_PATTERN: &str = r#"[[rule]]
id = "acme.huge"
title = "Huge"
scope = "input"
when = { "input.text" = { regex = '(?:\w{100}){100}' } }
cause = "c"
fix = "f"
docs = ["https://example.com"]

[[rule.example]]
input = "x"
matches = true

[[rule.example]]
input = "y"
matches = false
"#;

#[test]
fn a_user_input_pattern_too_large_to_compile_switches_off_nothing_else() {
    let diagnoses = |user: &[RuleSource]| {
        let report = load_over_builtin(user, true);
        assert!(report.problems.is_empty());
        let set = RuleSet::new(report.rules, report.providers);
        let analysis = faultline::analyze_text("forum.txt", &seed(), &set);
        let ids: Vec<String> = analysis.diagnoses.iter().map(|d| d.id.clone()).collect();
        (ids, set.late_problems())
    };
    let (alone, none) = diagnoses(&[]);
    assert!(none.is_empty());
    assert!(alone.len() >= 8, "{alone:?}");
    let user = RuleSource::new("user/huge.toml", HUGE_INPUT_PATTERN, false);
    let (with_user, problems) = diagnoses(&[user]);
    assert_eq!(with_user, alone);
    // Not silence: an error of that rule, at its pattern.
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.code, "rule::pattern-too-large");
    assert!(p.is_error());
    assert_eq!(p.file, "user/huge.toml");
    let span = p.span.expect("a span");
    assert_eq!(
        &HUGE_INPUT_PATTERN[span.offset()..span.offset() + span.len()],
        r"'(?:\w{100}){100}'"
    );
}

#[test]
fn rules_released_for_an_analysis_hold_no_text_nor_examples_yet_place_a_late_problem() {
    // A file changed just now is proven by a hash of its text (its stamp
    // could still change within a timestamp tick); one changed more than
    // three seconds before it is read, by its stamp alone.
    released_then_edited(false);
    released_then_edited(true);
}

fn released_then_edited(old_file: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    std::fs::write(&path, HUGE_INPUT_PATTERN).unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    if old_file {
        // The change time cannot be set back: wait until it is not racy.
        std::thread::sleep(std::time::Duration::from_millis(3100));
    }
    let user = RuleSource::read(&path).unwrap();
    let report = load_over_builtin(std::slice::from_ref(&user), true);
    let mut set = RuleSet::new(report.rules, report.providers);
    assert!(set.rules.iter().any(|r| !r.examples.is_empty()));
    faultline::rules::engine::release_for_analysis(&mut set.rules);
    // What a run keeps of its rules: no file text, no example.
    for rule in &set.rules {
        assert!(rule.examples.is_empty(), "{}", rule.id);
        assert!(
            !matches!(rule.origin.text.as_deref(), Some(SourceText::Held(..))),
            "{}",
            rule.id
        );
    }
    let huge = set.get("acme.huge").unwrap();
    let Some(SourceText::OnDisk { proof, .. }) = huge.origin.text.as_deref() else {
        panic!("{:?}", huge.origin.text)
    };
    assert_eq!(matches!(proof, FileProof::Stamp(_)), old_file, "{proof:?}");
    let _ = faultline::analyze_text("forum.txt", &seed(), &set);
    // The file is read again to show the pattern that failed, in its place.
    let problems = set.late_problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.code, "rule::pattern-too-large");
    let span = p.span.expect("a span");
    let text = p.source_code.as_ref().expect("the file's text").inner();
    assert_eq!(
        &text[span.offset()..span.offset() + span.len()],
        r"'(?:\w{100}){100}'"
    );
    // Changed since it was loaded, here to a text of the same size with
    // the old modification time: the problem is still reported, but not at
    // a place that may no longer be the pattern's.
    std::fs::write(&path, HUGE_INPUT_PATTERN.replace("Huge", "Vast")).unwrap();
    if old_file {
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(an_hour_ago).unwrap();
    }
    let problems = set.late_problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code, "rule::pattern-too-large");
    assert!(problems[0].span.is_none() && problems[0].source_code.is_none());
}

#[test]
fn rules_check_finds_the_too_large_pattern_before_a_run() {
    let user = RuleSource::new("user/huge.toml", HUGE_INPUT_PATTERN, false);
    let checked = faultline::rules::check::check(&[user], false);
    let codes: Vec<&str> = checked.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["rule::pattern-too-large"]);
}

#[test]
fn a_placeholder_without_a_value_reads_unknown() {
    let rule = r#"[[rule]]
id = "acme.denied"
title = "Denied ({body.reason}) for {url.host}"
when = { status = 403 }
cause = "c"
fix = "f"
docs = ["https://example.com"]

[[rule.example]]
input = "HTTP/1.1 403 Forbidden"
matches = true

[[rule.example]]
input = "HTTP/1.1 404 Not Found"
matches = false
"#;
    let report = load_over_builtin(&[RuleSource::new("u.toml", rule, false)], false);
    assert!(report.problems.is_empty());
    let set = RuleSet::new(report.rules, report.providers);
    let a = faultline::analyze_text(
        "paste",
        "HTTP/1.1 403 Forbidden\n\n{\"reason\": \"quota\"}\n",
        &set,
    );
    assert_eq!(&*a.diagnoses[0].title, "Denied (quota) for (unknown)");
}

#[test]
fn listing_and_explaining_compile_nothing_and_a_paste_compiles_little() {
    let report = load_over_builtin(&[], true);
    let set = RuleSet::new(report.rules, report.providers);
    let patterns = set.rules.iter().flat_map(|r| r.conditions()).count();
    // What `rules list` and `explain` do: read the rules, render one.
    for rule in &set.rules {
        let _ = faultline::rules::explain::render(
            rule,
            &set.rules,
            faultline::mask::Masker {
                show_secrets: false,
            },
        );
    }
    assert_eq!(set.compiled_patterns(), 0);
    let body = "{\"error\": \"invalid_grant\", \"error_description\": \"bad\"}\n";
    let analysis = faultline::analyze_text("paste", body, &set);
    assert!(!analysis.diagnoses.is_empty());
    // Only the few rules the prefilter lets through compile anything: at
    // most 2% of the pack's conditions (9 of 1,239 with the provider packs).
    assert!(
        set.compiled_patterns() * 50 <= patterns,
        "a pasted body compiled {} patterns (of {patterns} conditions)",
        set.compiled_patterns()
    );
}

#[test]
fn a_rule_file_over_the_size_limit_is_an_error_with_a_place_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let one = synthetic(1);
    let copies = (faultline::rules::load::limits::MAX_FILE_BYTES / one.len()) + 10;
    let text: String = (0..copies)
        .map(|i| one.replace("synthetic.rule-0", &format!("synthetic.rule-{i}")))
        .collect();
    std::fs::write(&path, &text).unwrap();
    let source = RuleSource::read(&path).unwrap();
    assert!(source.oversize.is_some());
    assert!(source.text().len() <= faultline::rules::load::limits::MAX_FILE_BYTES);
    let report = load_over_builtin(&[source], false);
    assert!(report.rules.is_empty());
    let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["rule::file-too-large"]);
    assert!(report.problems[0].span.is_some());
    assert!(report.problems[0].message.contains("limited to 8 MiB"));
}

#[test]
fn a_huge_value_is_quoted_shortened() {
    let huge = "x".repeat(100_000);
    let text = format!(
        "[[rule]]\nid = \"a.{huge}\"\ntitle = \"t\"\nseverity = \"{huge}\"\nwhen = {{ status = 1 }}\ncause = \"c\"\nfix = \"f\"\ndocs = [\"https://example.com\"]\n"
    );
    let report = load_over_builtin(&[RuleSource::new("u.toml", text, false)], false);
    let severity = report
        .problems
        .iter()
        .find(|p| p.code == "rule::bad-severity")
        .expect("a severity problem");
    assert!(severity.message.len() < 200, "{}", severity.message.len());
    assert!(severity.message.contains("(100000 bytes)"));
}

fn faultline() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("faultline").unwrap();
    // No rule cache: these runs must not write into the real home.
    cmd.env_remove("FAULTLINE_RULES")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("FAULTLINE_NO_CACHE", "1")
        .env("NO_COLOR", "1");
    cmd
}

/// Each of issue 11's authoring slips, in one file: `rules check` names
/// each one with a suggestion, in text and in JSON.
const SLIPS: &str = r#"[[rule]]
id = "Stripe.ResourceMissing"
title = "Stripe: {body.error.message} ({stauts})"
confidence = 80
when = { status = 404, "body.eror.type" = "invalid_request_error", "body.error.message" = { exists = true } }
cause = "The object does not exist."
fix = "Check the id."
docs = ["https://docs.stripe.com/error-codes/resource-missing"]

[[rule.example]]
input = '''
HTTP/1.1 404 Not Found

{"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such customer: 'cus_X'"}}
'''
matches = true

[[rule.example]]
input = '''
HTTP/1.1 404 Not Found

{"error": {"type": "api_error"}}
'''
matches = false

[[rule]]
id = "acme.bad-regex"
title = "Account {user} locked"
when = { "exception.message" = { regex = '(?i)user (?P<user>\w+ is locked' } }
cause = "c"
fix = "f"
docs = ["https://example.com"]

[[rule.example]]
input = "x"
matches = true

[[rule.example]]
input = "y"
matches = false
"#;

#[test]
fn rules_check_names_each_authoring_slip_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slips.toml");
    std::fs::write(&file, SLIPS).unwrap();
    let out = faultline()
        .args(["rules", "check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "faultline/rules-check@1");
    let problems = json["problems"].as_array().unwrap();
    let find = |code: &str| {
        problems
            .iter()
            .filter(|p| p["code"] == code)
            .collect::<Vec<_>>()
    };
    let help = |p: &serde_json::Value| p["help"].as_str().unwrap_or("").to_string();
    assert!(help(find("rule::bad-id")[0]).contains("`stripe.resource-missing`"));
    assert!(help(find("rule::bad-confidence")[0]).contains("`confidence = 0.8`"));
    let placeholder = find("rule::unknown-placeholder");
    assert_eq!(placeholder.len(), 1, "only `{{stauts}}`: {placeholder:?}");
    assert!(help(placeholder[0]).contains("`status`"));
    let subfield = find("rule::unknown-subfield");
    assert_eq!(subfield[0]["severity"], "warning");
    assert!(
        subfield[0]["message"]
            .as_str()
            .unwrap()
            .contains("`body.error.type`")
    );
    assert_eq!(subfield[0]["line"], 5);
    // The broken regex is reported alone: its `{user}` group is not a
    // second problem.
    let regex = find("rule::bad-regex");
    assert_eq!(regex.len(), 1);
    assert_eq!(regex[0]["message"], "invalid regex: unclosed group");
    assert_eq!(regex[0]["line"], 29);
    assert!(problems.iter().all(|p| p["file"] == file.to_str().unwrap()));
    assert_eq!(
        json["errors"].as_u64().unwrap() + json["warnings"].as_u64().unwrap(),
        problems.len() as u64
    );
}

/// An input-wide pattern no literal can find is run over every line of
/// every input: `rules check` says so, and not of one that starts with the
/// vendor's words.
#[test]
fn rules_check_warns_of_an_input_wide_pattern_with_no_literal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scan.toml");
    std::fs::write(
        &file,
        r#"
[[rule]]
id = "acme.expiry-line"
title = "A signed URL's expiry"
scope = "input"
when = { "input.text" = { regex = '^\s*\d{10}\s*$' } }
cause = "c"
fix = "f"
docs = ["https://example.com"]

[[rule]]
id = "acme.worded"
title = "Acme's own words"
scope = "input"
when = { "input.text" = { regex = 'Acme refused the key \d+' } }
cause = "c"
fix = "f"
docs = ["https://example.com"]
"#,
    )
    .unwrap();
    let out = faultline()
        .args(["rules", "check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&serde_json::Value> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "rule::unprefiltered-input-pattern")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], "warning");
    assert_eq!(found[0]["line"], 6);
}

#[test]
fn rules_test_reports_in_json_for_ci() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.toml");
    std::fs::write(&file, synthetic(2)).unwrap();
    let out = faultline()
        .args(["rules", "test", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "faultline/rules-test@1");
    assert_eq!(json["passed"], 4);
    assert_eq!(json["failed"], 0);
    let first = &json["examples"][0];
    assert_eq!(first["rule"], "synthetic.rule-0");
    assert_eq!(first["expected"], "match");
    assert_eq!(first["passed"], true);
}

#[test]
fn a_warning_alone_does_not_fail_rules_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.toml");
    let rule = synthetic(1).replace(
        "title = \"Synthetic rule 0\"",
        "title = \"Synthetic rule 0 for {url.host}\"",
    );
    std::fs::write(&file, rule).unwrap();
    let out = faultline()
        .args(["rules", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no problems, 1 warning"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rule::unguaranteed-placeholder"),
        "{stderr}"
    );
}

#[test]
fn truncated_and_garbled_rule_files_never_panic() {
    let sources = faultline::rules::builtin_sources();
    let source = sources
        .iter()
        .find(|s| s.name.ends_with("sso.toml"))
        .expect("a built-in rule file");
    let text = source.text().as_str();
    // Cuts mid-string, mid-table and mid-key, with an unclosed quote or
    // brace added at the cut.
    for k in 0..24 {
        let cut = text.floor_char_boundary(k * text.len() / 24 + k);
        for variant in [
            text[..cut].to_string(),
            format!("{}\"\n{}{{", &text[..cut], &text[cut..]),
        ] {
            let s = RuleSource::new("cut.toml", variant, false);
            let checked = faultline::rules::check::check(&[s], k % 3 == 0);
            let _ = faultline::rules::check::check_json(&checked, 1);
        }
    }
}

/// Two user rules on one failure: an input-wide diagnosis and an incident
/// rule. `supersedes` works across the two kinds, both ways.
fn supersede_pack(whole_supersedes: &str, incident_supersedes: &str) -> String {
    format!(
        r#"[[rule]]
id = "acme.whole-input-cause"
title = "The whole log says why"
scope = "input"
when = {{ "input.text" = {{ contains = "realm acme-tenant disabled" }} }}
supersedes = [{whole_supersedes}]
cause = "c"
fix = "f"
docs = ["https://example.com/whole"]

[[rule.example]]
input = "realm acme-tenant disabled"
matches = true

[[rule.example]]
input = "realm acme-tenant enabled"
matches = false

[[rule]]
id = "acme.generic-unauthorized-client"
title = "Generic reading of one exchange"
when = {{ error = "unauthorized_client" }}
supersedes = [{incident_supersedes}]
cause = "c"
fix = "f"
docs = ["https://example.com/generic"]

[[rule.example]]
input = '''
HTTP/1.1 400 Bad Request

{{"error": "unauthorized_client"}}
'''
matches = true

[[rule.example]]
input = '''
HTTP/1.1 400 Bad Request

{{"error": "invalid_grant"}}
'''
matches = false
"#
    )
}

fn diagnosis_ids(pack: &str) -> Vec<String> {
    diagnoses(pack)
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

fn diagnoses(pack: &str) -> Vec<serde_json::Value> {
    diagnoses_of(
        pack,
        "2024-05-01 10:00:00 WARN realm acme-tenant disabled by admin\nPOST https://id.example.com/token\nHTTP/1.1 400 Bad Request\n\n{\"error\": \"unauthorized_client\"}\n",
    )
}

fn diagnoses_of(pack: &str, text: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("acme.toml");
    std::fs::write(&rules, pack).unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, text).unwrap();
    let out = faultline()
        .args(["--no-builtin", "--rules"])
        .arg(&rules)
        .args(["--format", "json"])
        .arg(&log)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["diagnoses"].as_array().unwrap().clone()
}

#[test]
fn supersedes_works_across_input_wide_and_incident_rules() {
    // Neither supersedes the other: both are reported.
    let both = diagnosis_ids(&supersede_pack("", ""));
    assert!(
        both.contains(&"acme.whole-input-cause".to_string()),
        "{both:?}"
    );
    assert!(
        both.contains(&"acme.generic-unauthorized-client".to_string()),
        "{both:?}"
    );
    // The whole-input diagnosis hides the incident rule it supersedes.
    let whole = diagnoses(&supersede_pack("\"acme.generic-unauthorized-client\"", ""));
    assert_eq!(whole.len(), 1, "{whole:?}");
    assert_eq!(whole[0]["rule"], "acme.whole-input-cause");
    // It explains that failure: reported as the incident's diagnosis.
    assert!(whole[0]["incident"].is_number(), "{whole:?}");
    // And the other way round, as before.
    let incident = diagnosis_ids(&supersede_pack("", "\"acme.whole-input-cause\""));
    assert_eq!(
        incident,
        vec!["acme.generic-unauthorized-client".to_string()]
    );
    // Each naming the other: the incident's explanation wins, never neither.
    let mutual = diagnosis_ids(&supersede_pack(
        "\"acme.generic-unauthorized-client\"",
        "\"acme.whole-input-cause\"",
    ));
    assert_eq!(mutual, vec!["acme.generic-unauthorized-client".to_string()]);
}

#[test]
fn an_input_wide_diagnosis_hides_what_it_supersedes_only_on_the_failure_it_explains() {
    // Its evidence lies in the first failure's body: the second failure,
    // another call with no such words, keeps its own reading.
    let log = "> POST /realms/acme/token HTTP/1.1\n> Host: id.example.com\n>\n< HTTP/1.1 400 Bad Request\n<\n\
{\"error\": \"unauthorized_client\", \"error_description\": \"realm acme-tenant disabled\"}\n\n\
2024-05-01 10:05:00 INFO next job\n\
> POST /oauth2/token HTTP/1.1\n> Host: login.other.example\n>\n< HTTP/1.1 400 Bad Request\n<\n\
{\"error\": \"unauthorized_client\"}\n";
    let found = diagnoses_of(
        &supersede_pack("\"acme.generic-unauthorized-client\"", ""),
        log,
    );
    let pairs: Vec<(String, serde_json::Value)> = found
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["incident"].clone(),
            )
        })
        .collect();
    assert_eq!(pairs.len(), 2, "{found:?}");
    let whole = pairs.iter().find(|p| p.0 == "acme.whole-input-cause");
    let generic = pairs
        .iter()
        .find(|p| p.0 == "acme.generic-unauthorized-client");
    let (Some(whole), Some(generic)) = (whole, generic) else {
        panic!("{found:?}");
    };
    assert!(whole.1.is_number() && generic.1.is_number(), "{found:?}");
    assert_ne!(whole.1, generic.1, "{found:?}");
}

/// A generic reading with `yields` and a specific rule on the same kind of
/// failure; and an input-wide note that may explain it.
const YIELDS_PACK: &str = r#"[[rule]]
id = "acme.refused-in-words"
title = "Refused in words"
yields = true
when = { message = { regex = '(?i)invalid credentials', label = "refused" } }
cause = "c"
fix = "f"
docs = ["https://example.com/generic"]

[[rule.example]]
input = "AcmeError: Invalid credentials"
matches = true

[[rule.example]]
input = "AcmeError: quota exceeded"
matches = false

[[rule]]
id = "acme.sandbox-key-on-live"
title = "A sandbox key sent to the live host"
when = { message = { regex = 'sandbox key', label = "sandbox key" } }
cause = "c"
fix = "f"
docs = ["https://example.com/specific"]

[[rule.example]]
input = "AcmeError: Invalid credentials (sandbox key on live host)"
matches = true

[[rule.example]]
input = "AcmeError: Invalid credentials"
matches = false

[[rule]]
id = "acme.tenant-disabled-note"
title = "The tenant is disabled"
scope = "input"
when = { "input.text" = { contains = "tenant disabled" } }
cause = "c"
fix = "f"
docs = ["https://example.com/note"]

[[rule.example]]
input = "tenant disabled"
matches = true

[[rule.example]]
input = "tenant enabled"
matches = false
"#;

#[test]
fn a_yielding_rule_is_reported_only_when_nothing_else_explains_the_failure() {
    // Alone: the generic reading is all there is, and it is reported.
    let alone = diagnoses_of(YIELDS_PACK, "AcmeError: Invalid credentials\n");
    let ids: Vec<&str> = alone.iter().map(|d| d["rule"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["acme.refused-in-words"], "{alone:?}");
    // With a specific rule on the same failure: it gives way, though the
    // specific rule names nothing in `supersedes`.
    let specific = diagnoses_of(
        YIELDS_PACK,
        "AcmeError: Invalid credentials (sandbox key on live host)\n",
    );
    let ids: Vec<&str> = specific
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["acme.sandbox-key-on-live"], "{specific:?}");
    // An input-wide note that explains the failure hides it too.
    let noted = diagnoses_of(
        YIELDS_PACK,
        "2024-05-01 WARN tenant disabled by admin\nAcmeError: Invalid credentials\n",
    );
    let ids: Vec<&str> = noted.iter().map(|d| d["rule"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["acme.tenant-disabled-note"], "{noted:?}");
}

/// An input-wide rule about one provider, reading "locked" beside a
/// password login.
const LOCKOUT_PACK: &str = r#"[[rule]]
id = "acme.password-lockout"
title = "Acme locks an account after failed password logins"
provider = "genesys"
scope = "input"
when = { "input.text" = { regex = '(?i)\blocked\b', label = "lock" } }
any = [ { "input.text" = { regex = '(?i)incorrect password', label = "password" } } ]
cause = "c"
fix = "f"
docs = ["https://example.com/lockout"]

[[rule.example]]
input = "account locked after an incorrect password"
matches = true

[[rule.example]]
input = "account locked"
matches = false
"#;

#[test]
fn a_provider_s_input_wide_rule_does_not_speak_for_another_provider_s_failure() {
    let exchange = |host: &str| {
        format!(
            "> GET /rest/api/1.0/projects HTTP/1.1\n> Host: {host}\n>\n< HTTP/1.1 401 Unauthorized\n<\n\
{{\"message\": \"Your account has been locked after an incorrect password.\"}}\n"
        )
    };
    let ids = |text: &str| -> Vec<String> {
        diagnoses_of(LOCKOUT_PACK, text)
            .iter()
            .map(|d| d["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let rule = "acme.password-lockout".to_string();
    // All it read lies in GitHub's answer: not Genesys's lockout.
    assert!(!ids(&exchange("api.github.com")).contains(&rule));
    // The provider's own failure, and one of no recognised provider, keep it.
    assert!(ids(&exchange("api.mypurecloud.com")).contains(&rule));
    assert!(ids(&exchange("scm.example.com")).contains(&rule));
    // A remark outside the failure still speaks for the whole input.
    let remark = format!(
        "The admin says the account is locked again.\n\n{}",
        exchange("api.github.com")
    );
    assert!(ids(&remark).contains(&rule));
}

/// The report of `text` with the built-in rules.
fn builtin_report(text: &str) -> serde_json::Value {
    let out = faultline()
        .args(["--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_input_wide_diagnosis_with_its_evidence_in_an_unexplained_failure_explains_it() {
    // A pasted Google error body: one incident; the input-wide rule reading
    // its ErrorInfo reason is that incident's diagnosis, not a note beside a
    // failure "no rule explains".
    let body = r#"{
  "error": {
    "code": 403,
    "message": "Request had insufficient authentication scopes.",
    "status": "PERMISSION_DENIED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "domain": "googleapis.com"
      }
    ]
  }
}
"#;
    let report = builtin_report(body);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{report}");
    assert_eq!(incidents[0]["explained"], true, "{report}");
    let first = &report["diagnoses"][0];
    assert_eq!(first["rule"], "google.insufficient-scopes", "{report}");
    assert_eq!(first["incident"], incidents[0]["id"], "{report}");
    // Evidence outside every failure stays an input-wide note: a Genesys
    // forum line naming an SDK class that does not exist, beside an
    // unrelated failure.
    let apart = builtin_report(
        "from PureCloudPlatformClientV2 import PlatformClient\n\n\n\nHTTP/1.1 503 Service Unavailable\n",
    );
    let note = apart["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "genesys.claim-nonexistent-sdk-names")
        .unwrap_or_else(|| panic!("{apart}"));
    assert!(note["incident"].is_null(), "{apart}");
    // Evidence on the lines right after an unexplained failure is the rest
    // of it: an Objective-C dictionary printed one member per line, whose
    // `error_code` line alone was read as the failure.
    let dump = r#"    "error_code" = "INVALID_ACCESS_TOKEN";
    "error_message" = "provided access token is for the wrong Plaid environment. expected \"production\", got \"development\"";
    "error_type" = "INVALID_INPUT";
    "request_id" = Hn4TzQ8wLmP2cVx;
"#;
    let report = builtin_report(dump);
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{report}");
    assert_eq!(incidents[0]["explained"], true, "{report}");
    let first = &report["diagnoses"][0];
    assert_eq!(
        first["rule"], "plaid.access-token-wrong-environment",
        "{report}"
    );
    assert_eq!(first["incident"], incidents[0]["id"], "{report}");
    // Further down, past a few lines, it is a note of its own again.
    let far = dump.replacen(
        "    \"error_message\"",
        "\n\n\n\n\n    \"error_message\"",
        1,
    );
    let report = builtin_report(&far);
    let note = report["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "plaid.access-token-wrong-environment")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(note["incident"].is_null(), "{report}");
}

/// Two user rules with the same incident pattern, too large for the regex
/// engine; its literal `quota` is all a text must have to need it.
fn huge_message_rules() -> String {
    let mut out = String::new();
    for id in ["acme.huge-a", "acme.huge-b"] {
        out.push_str(&format!(
            r#"[[rule]]
id = "{id}"
title = "Huge"
when = {{ message = {{ regex = '(?i)quota (?:\w{{100}}){{100}}' }} }}
cause = "c"
fix = "f"
docs = ["https://example.com"]

[[rule.example]]
input = "x"
matches = true

[[rule.example]]
input = "y"
matches = false

"#
        ));
    }
    out
}

#[test]
fn an_incident_pattern_compiles_only_for_a_text_with_its_literals_and_every_rule_hears_of_its_failure()
 {
    let text = huge_message_rules();
    let user = RuleSource::new("user/huge.toml", &text, false);
    // `rules check` compiles everything: both rules, each at its pattern.
    let checked = faultline::rules::check::check(std::slice::from_ref(&user), false);
    let found: Vec<(&str, &str)> = checked
        .problems
        .iter()
        .map(|p| {
            let span = p.span.expect("a span");
            (
                p.code.as_str(),
                &text[span.offset()..span.offset() + span.len()],
            )
        })
        .collect();
    let at = r"'(?i)quota (?:\w{100}){100}'";
    assert_eq!(
        found,
        [
            ("rule::pattern-too-large", at),
            ("rule::pattern-too-large", at)
        ]
    );

    let report = load_over_builtin(std::slice::from_ref(&user), true);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let set = RuleSet::new(report.rules, report.providers);
    // A text without `quota`: the pattern is never compiled, so nothing fails.
    let body = "HTTP/1.1 429 Too Many Requests\n\n{\"message\": \"Slow down\"}\n";
    let _ = faultline::analyze_text("paste", body, &set);
    assert!(set.late_problems().is_empty());
    // A text with it: compiled once, and both rules report the failure.
    let body = "HTTP/1.1 429 Too Many Requests\n\n{\"message\": \"Quota requests exhausted\"}\n";
    let _ = faultline::analyze_text("paste", body, &set);
    let late: Vec<String> = set.late_problems().iter().map(|p| p.code.clone()).collect();
    assert_eq!(late, ["rule::pattern-too-large", "rule::pattern-too-large"]);
}
