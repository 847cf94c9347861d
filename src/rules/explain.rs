//! Renders a rule's full text, like `rustc --explain`.

use super::{Rule, Scope};

pub fn render(rule: &Rule) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} — {}\n\n", rule.id, rule.title));
    out.push_str(&format!(
        "severity: {}   confidence: {:.0}%   provider: {}   scope: {}\ndefined in: {}:{}{}\n\n",
        rule.severity.as_str(),
        rule.confidence * 100.0,
        rule.provider.as_deref().unwrap_or("any"),
        match rule.scope {
            Scope::Incident => "one failing exchange",
            Scope::Input => "the whole input",
        },
        rule.origin.file,
        rule.origin.line,
        if rule.origin.builtin { " (built-in)" } else { "" }
    ));
    out.push_str("Matches when\n");
    for c in &rule.when {
        out.push_str(&format!("  {}\n", c.source_text));
    }
    if !rule.any.is_empty() {
        out.push_str("and at least one of\n");
        for table in &rule.any {
            let parts: Vec<&str> = table.iter().map(|c| c.source_text.as_str()).collect();
            out.push_str(&format!("  {{ {} }}\n", parts.join(", ")));
        }
    }
    if !rule.unless.is_empty() {
        out.push_str("unless\n");
        for c in &rule.unless {
            out.push_str(&format!("  {}\n", c.source_text));
        }
    }
    out.push_str(&format!("\nCause\n  {}\n\nFix\n  {}\n", rule.cause, rule.fix));
    if let Some(check) = &rule.check {
        out.push_str(&format!("\nHow to confirm\n  {check}\n"));
    }
    if !rule.not.is_empty() {
        out.push_str("\nNot this\n");
        for n in &rule.not {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    if !rule.supersedes.is_empty() {
        out.push_str(&format!("\nSupersedes: {}\n", rule.supersedes.join(", ")));
    }
    out.push_str("\nDocs\n");
    for d in &rule.docs {
        out.push_str(&format!("  {d}\n"));
    }
    for ex in &rule.examples {
        out.push_str(&format!(
            "\nExample ({}){}:\n",
            if ex.matches { "matches" } else { "does not match" },
            ex.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default()
        ));
        for line in ex.input.trim_end().lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}
