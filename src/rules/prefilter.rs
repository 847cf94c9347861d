//! Which rules can fire for an incident at all, found from its facts in
//! time that does not grow with the number of rules.
//!
//! Each incident rule is keyed on one condition it cannot fire without (the
//! most selective of its `when` conditions, or one per `any` table): an
//! exact value (`error = "invalid_grant"`, `status = 401`), literal factors
//! of a text test (`message` containing `locked`, searched with one
//! literal set per field, see `literal_set`), or just the field being present. An
//! incident's facts are looked up in these keys; only the rules found, plus
//! those with no usable key, are evaluated. The keys are necessary
//! conditions, so the result is the same as evaluating every rule.

use std::sync::OnceLock;

use aho_corasick::AhoCorasickKind;
use foldhash::{HashMap, HashMapExt};

use super::literal_set::LiteralSet;
use super::literals::{ascii_run, at_least};
use super::{Condition, Literal, Op, Rule, Scope};
use crate::facts::Facts;

/// Literal factors shorter than this match too often to be worth keying on.
const MIN_FACTOR: usize = 3;

/// A value a condition needs, as the index stores it.
#[derive(Debug, Clone, PartialEq)]
enum Exact {
    /// ASCII-lower-cased text (text equality is ASCII-case-insensitive).
    Text(String),
    Number(f64),
}

/// What a rule cannot fire without, borrowed from its conditions: the
/// needs of every op are compared and most are dropped, so only the one
/// kept is copied into the index.
#[derive(Debug, Clone, PartialEq)]
enum Need<'a> {
    /// One of these values of the field.
    Values(&'a [Literal]),
    /// A value of the field containing one of these factors (lower-case).
    Factors(Vec<String>),
    /// A value of the field containing this text, ASCII-case-insensitively.
    Factor(&'a str),
    /// Some value of the field.
    Present,
}

impl Need<'_> {
    /// Higher is more selective.
    fn rank(&self) -> usize {
        match self {
            Need::Values(_) => 3,
            Need::Factors(_) | Need::Factor(_) => 2,
            Need::Present => 1,
        }
    }

    fn factor_len(&self) -> usize {
        match self {
            Need::Factors(fs) => fs.iter().map(String::len).min().unwrap_or(0),
            Need::Factor(f) => f.len(),
            _ => 0,
        }
    }
}

/// The need of one condition, if it has one.
fn condition_need(cond: &Condition) -> Option<Need<'_>> {
    // `input.*` facts are not the incident's; `Op::Input` is answered by
    // the input-wide scan.
    if cond.field.starts_with("input.") {
        return None;
    }
    cond.ops
        .iter()
        .filter_map(op_need)
        .max_by_key(|n| (n.rank(), n.factor_len()))
}

fn exact(lit: &Literal) -> Exact {
    match lit {
        Literal::Str(s) => Exact::Text(s.to_ascii_lowercase()),
        Literal::Num(n) => Exact::Number(*n),
        Literal::Bool(b) => Exact::Text(b.to_string()),
    }
}

fn op_need(op: &Op) -> Option<Need<'_>> {
    Some(match op {
        Op::Equals(lit) => Need::Values(std::slice::from_ref(lit)),
        Op::AnyOf(lits) => Need::Values(lits),
        // The most selective set is enough to key on.
        Op::Regex(r) => match at_least(r.factors.as_ref(), MIN_FACTOR) {
            Some(mut sets) => Need::Factors(sets.swap_remove(0)),
            None => Need::Present,
        },
        // Already lower-cased (Unicode); see `ascii_factor` for why only
        // its ASCII part is a factor of the original text.
        Op::Contains(s) | Op::StartsWith(s) | Op::EndsWith(s) => match ascii_run(s, MIN_FACTOR) {
            Some(f) => Need::Factor(f),
            None => Need::Present,
        },
        Op::Exists(true) | Op::Gt(_) | Op::Lt(_) | Op::Gte(_) | Op::Lte(_) | Op::SameAs(_) => {
            Need::Present
        }
        Op::Exists(false) | Op::Input(_) => return None,
    })
}

/// The best need among conditions that must all hold.
fn conjunction_need(conds: &[Condition]) -> Option<(&str, Need<'_>)> {
    conds
        .iter()
        .filter_map(|c| condition_need(c).map(|n| (c.field.as_str(), n)))
        .max_by_key(|(_, n)| (n.rank(), n.factor_len()))
}

/// The keys of one field.
#[derive(Default)]
struct FieldKeys {
    present: Vec<u32>,
    text: HashMap<String, Vec<u32>>,
    /// By the value's bits (`-0` stored as `0`).
    numbers: HashMap<u64, Vec<u32>>,
    factors: Vec<(String, u32)>,
    /// Built on first need: an incident has few of the fields rules test.
    automaton: OnceLock<Factors>,
}

/// The factors of a field's rules, and per factor the rules keyed on it.
struct Factors {
    set: LiteralSet,
    owners: Vec<Vec<u32>>,
}

impl FieldKeys {
    fn factor_set(&self) -> &Factors {
        self.automaton.get_or_init(|| {
            let mut position: HashMap<&str, usize> = HashMap::new();
            let mut literals: Vec<&str> = Vec::new();
            let mut owners: Vec<Vec<u32>> = Vec::new();
            for (f, rule) in &self.factors {
                let p = *position.entry(f.as_str()).or_insert_with(|| {
                    literals.push(f.as_str());
                    owners.push(Vec::new());
                    owners.len() - 1
                });
                owners[p].push(*rule);
            }
            Factors {
                // Fact values are short: if an automaton is ever built, a
                // DFA would cost more to build than it saves.
                set: LiteralSet::new(&literals, AhoCorasickKind::ContiguousNFA),
                owners,
            }
        })
    }
}

fn number_key(n: f64) -> u64 {
    if n == 0.0 {
        0f64.to_bits()
    } else {
        n.to_bits()
    }
}

/// The index of a rule set's incident rules.
pub struct RuleIndex {
    /// Incident rules with no usable key: always evaluated.
    always: Vec<u32>,
    fields: HashMap<String, FieldKeys>,
}

impl RuleIndex {
    pub fn new(rules: &[Rule]) -> Self {
        let mut always = Vec::new();
        let mut fields: HashMap<String, FieldKeys> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.scope != Scope::Incident {
                continue;
            }
            let i = i as u32;
            // One need of `when`, else one per `any` table (the rule needs
            // one of them).
            let needs: Option<Vec<(&str, Need)>> =
                conjunction_need(&rule.when).map(|n| vec![n]).or_else(|| {
                    if rule.any.is_empty() {
                        None
                    } else {
                        rule.any.iter().map(|t| conjunction_need(t)).collect()
                    }
                });
            let Some(needs) = needs else {
                always.push(i);
                continue;
            };
            for (field, need) in needs {
                // Most rules key on a field already seen: no key to copy.
                let keys = match fields.get_mut(field) {
                    Some(keys) => keys,
                    None => fields.entry(field.to_string()).or_default(),
                };
                match need {
                    Need::Present => keys.present.push(i),
                    Need::Factors(fs) => keys.factors.extend(fs.into_iter().map(|f| (f, i))),
                    Need::Factor(f) => keys.factors.push((f.to_ascii_lowercase(), i)),
                    Need::Values(values) => {
                        for v in values.iter().map(exact) {
                            match v {
                                Exact::Text(t) => keys.text.entry(t).or_default().push(i),
                                Exact::Number(n) => {
                                    keys.numbers.entry(number_key(n)).or_default().push(i)
                                }
                            }
                        }
                    }
                }
            }
        }
        RuleIndex { always, fields }
    }

    /// The incident rules that may hold for `facts`, in rule order.
    pub fn candidates(&self, facts: &Facts) -> Vec<usize> {
        let mut out: Vec<u32> = self.always.clone();
        for (field, values) in facts.iter() {
            let Some(keys) = self.fields.get(field) else {
                continue;
            };
            if values.is_empty() {
                continue;
            }
            out.extend(&keys.present);
            for v in values {
                let text = v.value.to_string();
                if !keys.text.is_empty()
                    && let Some(rules) = keys.text.get(&text.to_ascii_lowercase())
                {
                    out.extend(rules);
                }
                if !keys.numbers.is_empty()
                    && let Some(n) = v.value.as_num()
                    && let Some(rules) = keys.numbers.get(&number_key(n))
                {
                    out.extend(rules);
                }
                if keys.factors.is_empty() {
                    continue;
                }
                let factors = keys.factor_set();
                let mut seen = vec![false; factors.owners.len()];
                factors.set.find(&text, |p| {
                    if !seen[p] {
                        seen[p] = true;
                        out.extend(&factors.owners[p]);
                    }
                    true
                });
            }
        }
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(|i| i as usize).collect()
    }
}
