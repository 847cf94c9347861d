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
//! conditions, so the result is the same as evaluating every rule. They
//! are found when a rule is validated and stored with it (`digest`): the
//! index is built without decoding any rule's conditions.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::AhoCorasickKind;
use foldhash::{HashMap, HashMapExt};

use super::digest::{Exact, Need, text_key};
use super::literal_set::LiteralSet;
use super::literals::BytePairs;
use super::{Rule, Scope, Texts};
use crate::facts::Facts;

/// The keys of one field.
#[derive(Default)]
struct FieldKeys {
    present: Vec<u32>,
    /// (key, rule) pairs, sorted (see [`rules_keyed`]); text by
    /// [`text_key`], numbers by the value's bits (`-0` stored as `0`).
    /// One flat list per field rather than a map to a vector per value:
    /// ten times the rules made thousands of small vectors at the first
    /// incident.
    text: Vec<(u64, u32)>,
    numbers: Vec<(u64, u32)>,
    /// Each rule's factors as the rule holds them (no copy of a string).
    factors: Vec<(Texts, u32)>,
    /// Built on first need: an incident has few of the fields rules test.
    automaton: OnceLock<Factors>,
    /// Values looked up rule by rule so far (see [`DIRECT_VALUES`]).
    direct: AtomicUsize,
}

/// Values of a field under this size are looked up in each rule's factors
/// directly while the field has had fewer than [`DIRECT_VALUES`] of them:
/// building the factor set (hashing each distinct factor, the literal
/// set's tables) was a tenth of a paste's instructions (2.5 M of 24 M,
/// callgrind, session 60), for a few short values. Both find the same
/// rules; a big log's many incidents soon build the set.
const DIRECT_BELOW: usize = 4 << 10;
const DIRECT_VALUES: usize = 32;

impl FieldKeys {
    /// Adds the rules keyed on a factor `text` holds, by the factor set.
    fn keyed_by_factor_set(&self, text: &str, out: &mut Vec<u32>) {
        let factors = self.factor_set();
        let mut seen = vec![false; factors.owners.len()];
        factors.set.find(text, |p| {
            if !seen[p] {
                seen[p] = true;
                out.extend(&factors.owners[p]);
            }
            true
        });
    }

    /// [`FieldKeys::keyed_by_factor_set`] without the set: each rule's
    /// factors looked up in `text`, a byte pair missing from it ruling a
    /// factor out.
    fn keyed_by_factors_directly(&self, text: &str, out: &mut Vec<u32>) {
        let bytes = text.as_bytes();
        let pairs = BytePairs::of(bytes);
        for (texts, rule) in &self.factors {
            if texts.byte_strings().any(|(_, f)| pairs.holds(bytes, f)) {
                out.push(*rule);
            }
        }
    }
}

/// The factors of a field's rules, and per factor the rules keyed on it.
struct Factors {
    set: LiteralSet,
    owners: Vec<Vec<u32>>,
}

impl FieldKeys {
    fn factor_set(&self) -> &Factors {
        self.automaton.get_or_init(|| {
            // Sized once (`owners` is kept: grown to the distinct factors
            // only): ten times the rules grew these at the first incident
            // with the field.
            let most = self.factors.iter().map(|(t, _)| t.strings().count()).sum();
            let mut position: HashMap<&str, usize> = HashMap::with_capacity(most);
            let mut literals: Vec<&str> = Vec::with_capacity(most);
            let mut owners: Vec<Vec<u32>> = Vec::new();
            for (texts, rule) in &self.factors {
                for (_, f) in texts.strings() {
                    match position.entry(f) {
                        Entry::Occupied(e) => owners[*e.get()].push(*rule),
                        Entry::Vacant(e) => {
                            e.insert(owners.len());
                            literals.push(f);
                            owners.push(vec![*rule]);
                        }
                    }
                }
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

/// The rules of `pairs` (sorted) keyed on `key`, in rule order.
fn rules_keyed(pairs: &[(u64, u32)], key: u64) -> impl Iterator<Item = u32> + '_ {
    let start = pairs.partition_point(|&(k, _)| k < key);
    pairs[start..]
        .iter()
        .take_while(move |&&(k, _)| k == key)
        .map(|&(_, rule)| rule)
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
            // Found when the rule was validated (see `digest`).
            let Some(needs) = rule.digest().keys.get() else {
                always.push(i);
                continue;
            };
            for key in needs {
                // Most rules key on a field already seen: no key to copy.
                let keys = match fields.get_mut(&*key.field) {
                    Some(keys) => keys,
                    None => fields.entry(key.field.to_string()).or_default(),
                };
                let values = match &key.need {
                    Need::Value(value) => std::slice::from_ref(value),
                    Need::Values(values) => values.as_slice(),
                    Need::Present => {
                        keys.present.push(i);
                        continue;
                    }
                    Need::Factors(fs) => {
                        keys.factors.push((fs.clone(), i));
                        continue;
                    }
                };
                for v in values {
                    match v {
                        Exact::Text(t) => keys.text.push((*t, i)),
                        Exact::Number(n) => keys.numbers.push((number_key(*n), i)),
                    }
                }
            }
        }
        // By key only: pushed in rule order, a stable sort keeps each key's
        // rules in it, as sorting the pairs would, with a comparison of
        // one number (most keys are a few statuses and codes).
        for keys in fields.values_mut() {
            keys.text.sort_by_key(|&(key, _)| key);
            keys.numbers.sort_by_key(|&(key, _)| key);
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
                // Borrowed: the `text` fact is the whole excerpt.
                let text = (v.value.as_str())
                    .map_or_else(|| Cow::Owned(v.value.to_string()), Cow::Borrowed);
                if !keys.text.is_empty() {
                    out.extend(rules_keyed(&keys.text, text_key(&text)));
                }
                if !keys.numbers.is_empty()
                    && let Some(n) = v.value.as_num()
                {
                    out.extend(rules_keyed(&keys.numbers, number_key(n)));
                }
                if keys.factors.is_empty() {
                    continue;
                }
                if text.len() < DIRECT_BELOW
                    && keys.automaton.get().is_none()
                    && keys.direct.fetch_add(1, Ordering::Relaxed) < DIRECT_VALUES
                {
                    keys.keyed_by_factors_directly(&text, &mut out);
                } else {
                    keys.keyed_by_factor_set(&text, &mut out);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(|i| i as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::RuleIndex;

    /// Looked up directly, a value keys the rules the factor set finds:
    /// every fixture and field case's lines and pieces of them, as they
    /// are and upper-cased, in each field the built-in rules key factors
    /// on.
    #[test]
    fn direct_lookups_key_what_the_factor_set_does() {
        let rules = crate::rules::load::load(&crate::rules::builtin_sources()).rules;
        let index = RuleIndex::new(&rules);
        let mut values: Vec<String> = Vec::new();
        for text in crate::test_corpus::fixture_and_field_texts() {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                values.push(line.to_string());
                values.push(line.to_uppercase());
            }
            for piece in text.as_bytes().chunks(700) {
                values.push(String::from_utf8_lossy(piece).into_owned());
            }
        }
        let mut fields = 0;
        let mut keyed = 0;
        for keys in index.fields.values().filter(|k| !k.factors.is_empty()) {
            fields += 1;
            for value in &values {
                let (mut direct, mut by_set) = (Vec::new(), Vec::new());
                keys.keyed_by_factors_directly(value, &mut direct);
                keys.keyed_by_factor_set(value, &mut by_set);
                // A rule keyed twice on the field is found twice either way
                // (`candidates` dedups).
                for found in [&mut direct, &mut by_set] {
                    found.sort_unstable();
                    found.dedup();
                }
                assert_eq!(direct, by_set, "{value}");
                keyed += usize::from(!direct.is_empty());
            }
        }
        assert!(fields >= 3, "{fields} fields key factors");
        assert!(keyed > 1000, "{keyed} values keyed rules");
    }
}
