//! Every built-in rule loads cleanly and passes its own examples, run through
//! the same code path as `faultline rules test`.

use faultline::rules::load::load;
use faultline::rules::selftest::run_examples;

#[test]
fn builtin_rules_load_without_problems() {
    let report = load(&faultline::rules::builtin_sources());
    let problems: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}:{}: {} [{}]", p.file, p.line(), p.message, p.code))
        .collect();
    assert!(
        problems.is_empty(),
        "problems in the built-in pack:\n{}",
        problems.join("\n")
    );
    assert!(
        report.rules.len() >= 20,
        "only {} rules",
        report.rules.len()
    );
}

/// Every input-wide pattern of the pack has a literal the prefilter finds
/// it by (`rule::unprefiltered-input-pattern` for user rules): one without
/// runs over every line of every input.
#[test]
fn builtin_input_wide_patterns_have_literals() {
    let report = load(&faultline::rules::builtin_sources());
    let bare: Vec<String> = report
        .rules
        .iter()
        .flat_map(|rule| {
            rule.unprefiltered_input_patterns()
                .map(move |(_, r)| format!("{}: {}", rule.id, r.pattern))
        })
        .collect();
    assert!(bare.is_empty(), "{}", bare.join("\n"));
}

/// `build.rs` validates the pack and stores it for start-up; what it stores
/// must be exactly what the full loader (with the facts catalogue) makes of
/// the same files.
#[test]
fn the_pack_stored_at_build_time_is_what_the_loader_makes_of_the_files() {
    let from_files = load(&faultline::rules::builtin_sources());
    let stored = faultline::rules::load::load_over_builtin(&[], true);
    assert!(stored.problems.is_empty());
    assert_eq!(stored.rules.len(), from_files.rules.len());
    for (a, b) in stored.rules.iter().zip(&from_files.rules) {
        // The pack keeps examples apart, read on demand.
        let mut a = a.clone();
        a.examples = faultline::rules::examples(&a).to_vec();
        assert_eq!(&a, b, "{} differs from its stored form", b.id);
    }
    assert_eq!(
        stored.providers.providers.len(),
        from_files.providers.providers.len()
    );
}

#[test]
fn builtin_rule_examples_pass() {
    let report = load(&faultline::rules::builtin_sources());
    let results = run_examples(&report.rules, &report.providers);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            format!(
                "{} — {} ({}:{}): expected {}, got {}\n    {}",
                r.rule.id,
                r.name(),
                r.rule.origin.file,
                r.rule.examples[r.index].line,
                if r.expected { "match" } else { "no match" },
                if r.fired { "match" } else { "no match" },
                r.explanation.join("\n    ")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    // Every rule has at least one positive and one negative example.
    for rule in &report.rules {
        assert!(
            rule.examples.iter().any(|e| e.matches),
            "{} has no positive example",
            rule.id
        );
        assert!(
            rule.examples.iter().any(|e| !e.matches),
            "{} has no negative example",
            rule.id
        );
    }
}

/// Runs the whole pack on every example of every rule. A rule must not fire
/// on other rules' examples unless that is meant: the table below is a
/// reviewed snapshot of every overlap, so a new rule that adds noise shows up
/// as a diff. A positive example whose own rule is dropped in the full run
/// must be dropped by a rule that declares `supersedes` for it.
#[test]
fn pack_overlaps_are_reviewed() {
    use faultline::rules::RuleSet;
    let report = load(&faultline::rules::builtin_sources());
    let set = RuleSet::new(report.rules.clone(), report.providers.clone());
    let mut table = Vec::new();
    for rule in &report.rules {
        for (i, ex) in rule.examples.iter().enumerate() {
            let analysis = faultline::analyze_text("example", &ex.input, &set);
            let mut fired: Vec<&str> = analysis.diagnoses.iter().map(|d| d.id.as_str()).collect();
            fired.sort();
            fired.dedup();
            let own = fired.contains(&rule.id.as_str());
            if ex.matches && !own {
                let by: Vec<&&str> = fired
                    .iter()
                    .filter(|id| set.get(id).is_some_and(|r| r.supersedes.contains(&rule.id)))
                    .collect();
                assert!(
                    !by.is_empty(),
                    "{} example {} matches alone but not in the full pack, and no rule that fired supersedes it (fired: {fired:?})",
                    rule.id,
                    i + 1
                );
            }
            let others: Vec<&str> = fired.into_iter().filter(|id| *id != rule.id).collect();
            let own_note = match (ex.matches, own) {
                (true, false) => " (superseded)",
                _ => "",
            };
            let name = ex.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            table.push(format!(
                "{} {} {}{}: {}",
                rule.id,
                if ex.matches { "+" } else { "-" },
                name,
                own_note,
                if others.is_empty() {
                    "-".to_string()
                } else {
                    others.join(", ")
                }
            ));
        }
    }
    insta::assert_snapshot!("pack_overlaps", table.join("\n"));
}

/// The pack is every `.toml` under `rules/`, however deep: a provider
/// directory added later (the packs) is embedded without touching
/// `build.rs`, and none is left out.
#[test]
fn the_pack_embeds_every_rule_file_under_rules() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = walkdir::WalkDir::new(root.join("rules"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = faultline::rules::builtin_sources()
        .into_iter()
        .map(|s| s.name)
        .collect();
    embedded.sort();
    assert!(on_disk.iter().any(|p| p.matches('/').count() >= 2));
    assert_eq!(embedded, on_disk);
}
