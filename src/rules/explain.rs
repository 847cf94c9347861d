//! Renders a rule's full text, like `rustc --explain`: what it matches, the
//! texts it reports, where it is defined, how it ranks, and its examples.

use super::{Rule, Scope};

/// `all` is the loaded rule set, to name the rules that supersede this one.
/// The rule's own prose is printed as written (it is advice, and advice such
/// as `X-Atlassian-Token: no-check` must stay readable); its examples quote
/// logs, which hold credentials, so they pass through `masker`.
pub fn render(rule: &Rule, all: &[Rule], masker: crate::mask::Masker) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} — {}\n\n", rule.id, rule.prose().title));
    let origin = if rule.origin.overrides_builtin {
        "user rule, overrides the built-in rule with this id"
    } else if rule.origin.builtin {
        "built-in"
    } else {
        "user rule"
    };
    // A built-in rule's file exists only in faultline's source tree, not on
    // the user's machine: name the pack, not the path.
    let defined = if rule.origin.builtin {
        "the built-in rule pack".to_string()
    } else {
        format!("{}:{} ({origin})", rule.origin.file, rule.origin.line)
    };
    out.push_str(&format!(
        "severity: {}   confidence: {:.0}%   provider: {}   scope: {}\ndefined in: {defined}\n\n",
        rule.severity.as_str(),
        rule.confidence * 100.0,
        rule.provider.as_deref().unwrap_or("any"),
        match rule.scope {
            Scope::Incident => "each failing exchange",
            Scope::Input => "the whole input",
        },
    ));
    // In the order of `Rule::conditions`: `when`, `any`, `unless`.
    let mut texts = rule.condition_texts().iter().map(String::as_str);
    let logic = rule.logic();
    if !logic.when.is_empty() {
        out.push_str("Matches when all of\n");
        for text in texts.by_ref().take(logic.when.len()) {
            out.push_str(&format!("  {text}\n"));
        }
    }
    if !logic.any.is_empty() {
        out.push_str(if logic.when.is_empty() {
            "Matches when one of these holds\n"
        } else {
            "and one of these holds\n"
        });
        for table in &logic.any {
            let parts: Vec<&str> = texts.by_ref().take(table.len()).collect();
            out.push_str(&format!("  {{ {} }}\n", parts.join(", ")));
        }
    }
    if !logic.unless.is_empty() {
        out.push_str("unless any of\n");
        for group in &logic.unless {
            let parts: Vec<&str> = texts.by_ref().take(group.len()).collect();
            match parts.as_slice() {
                [one] => out.push_str(&format!("  {one}\n")),
                _ => out.push_str(&format!("  {{ {} }}\n", parts.join(", "))),
            }
        }
    }
    out.push_str(&format!(
        "\nCause\n  {}\n\nFix\n  {}\n",
        rule.prose().cause,
        rule.prose().fix
    ));
    if let Some(check) = &rule.prose().check {
        out.push_str(&format!("\nHow to confirm\n  {check}\n"));
    }
    if !rule.prose().not.is_empty() {
        out.push_str("\nNot this\n");
        for n in &rule.prose().not {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    let superseded_by: Vec<&str> = all
        .iter()
        .filter(|r| r.supersedes.contains(&rule.id))
        .map(|r| r.id.as_str())
        .collect();
    if !rule.supersedes.is_empty() || !superseded_by.is_empty() {
        out.push_str("\nRanking\n");
        if !rule.supersedes.is_empty() {
            out.push_str(&format!(
                "  hides: {} (when both match the same failure, only this rule is reported)\n",
                rule.supersedes.iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if !superseded_by.is_empty() {
            out.push_str(&format!(
                "  hidden by: {} (when one of them matches the same failure, this rule is not reported)\n",
                superseded_by.join(", ")
            ));
        }
    }
    out.push_str("\nDocs\n");
    for d in rule.prose().docs.iter() {
        out.push_str(&format!("  {d}\n"));
    }
    for ex in super::examples(rule) {
        let place = if rule.origin.builtin {
            String::new()
        } else {
            format!(", {}:{}", rule.origin.file, ex.line)
        };
        out.push_str(&format!(
            "\nExample{} ({}{place}):\n",
            ex.name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default(),
            if ex.matches {
                "matches"
            } else {
                "does not match"
            },
        ));
        for line in masker.apply(ex.input.trim_end()).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}
