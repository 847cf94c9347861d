//! The JSON Schema of rule files (`faultline rules schema`), for TOML editors
//! (taplo, Even Better TOML) to complete and validate rules as they are
//! typed. Built from the same catalogues the loader validates against
//! (`FIELDS`, `FIELD_PREFIXES`, `RULE_KEYS`, `OPERATORS`), so it cannot drift.
//!
//! Draft 7, the newest draft taplo fully supports. The schema checks shape;
//! `faultline rules check` checks everything (regexes, placeholders,
//! duplicate ids, `supersedes`).

use serde_json::{Map, Value, json};

use super::load::{EXAMPLE_KEYS, OPERATORS, RULE_KEYS};
use crate::facts::{FIELD_PREFIXES, FIELDS};

/// The schema's `$id`; also what `#:schema` directives may point at once
/// the file is saved locally.
pub const SCHEMA_ID: &str = "https://faultline.dev/schema/rules.json";

/// The regex that a field name with `prefix` must match.
fn prefix_pattern(prefix: &str) -> String {
    format!("^{}.+$", regex::escape(prefix))
}

fn field_description(meaning: &str, example: &str) -> String {
    format!("{meaning}. Example value: {example}")
}

/// `{ field = test, … }`: every known field, and the field families.
fn conditions() -> Value {
    let mut properties = Map::new();
    for (name, meaning, example) in FIELDS {
        properties.insert(
            name.to_string(),
            json!({
                "$ref": "#/definitions/test",
                "description": field_description(meaning, example),
            }),
        );
    }
    let mut patterns = Map::new();
    for (prefix, meaning, example) in FIELD_PREFIXES {
        patterns.insert(
            prefix_pattern(prefix),
            json!({
                "$ref": "#/definitions/test",
                "description": format!("{meaning}, e.g. `{example}`"),
            }),
        );
    }
    json!({
        "type": "object",
        "description": "Conditions: `{ field = test, … }`. Keys are fact fields (`faultline rules fields`).",
        "properties": properties,
        "patternProperties": patterns,
        "additionalProperties": false,
        "minProperties": 1,
    })
}

/// Any field name, for `same_as`.
fn field_name() -> Value {
    let names: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
    let mut any = vec![json!({ "enum": names })];
    any.extend(
        FIELD_PREFIXES
            .iter()
            .map(|(p, _, _)| json!({ "type": "string", "pattern": prefix_pattern(p) })),
    );
    json!({ "description": "A fact field name.", "anyOf": any })
}

fn operators() -> Value {
    let mut properties = Map::new();
    for (name, takes, meaning) in OPERATORS {
        let mut schema = match *takes {
            "string" => json!({ "type": "string" }),
            "boolean" => json!({ "type": "boolean" }),
            "number" => json!({ "type": "number" }),
            _ => json!({ "$ref": "#/definitions/field" }),
        };
        schema["description"] = json!(meaning);
        properties.insert(name.to_string(), schema);
    }
    json!({
        "type": "object",
        "description": "Operators; every one given must hold.",
        "properties": properties,
        "additionalProperties": false,
        "minProperties": 1,
    })
}

/// `properties` for a table's keys: each key's type from `types` (a string
/// when not given), its description from the catalogue.
fn keyed(catalogue: &[(&str, bool, &str)], mut types: Map<String, Value>) -> Value {
    let mut properties = Map::new();
    for (key, _, meaning) in catalogue {
        let mut schema = types
            .remove(*key)
            .unwrap_or_else(|| json!({ "type": "string" }));
        schema["description"] = json!(meaning);
        properties.insert(key.to_string(), schema);
    }
    Value::Object(properties)
}

fn required(catalogue: &[(&'static str, bool, &str)]) -> Vec<&'static str> {
    catalogue
        .iter()
        .filter(|(_, r, _)| *r)
        .map(|(k, _, _)| *k)
        .collect()
}

fn rule() -> Value {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let types = json!({
        "id": { "type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$" },
        "severity": { "enum": ["error", "warning", "info"] },
        "expected": { "type": "boolean" },
        "yields": { "type": "boolean" },
        "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
        "scope": { "enum": ["incident", "input"] },
        "when": { "$ref": "#/definitions/conditions" },
        "any": { "type": "array", "items": { "$ref": "#/definitions/conditions" }, "minItems": 1 },
        "unless": {
            "anyOf": [
                { "$ref": "#/definitions/conditions" },
                { "type": "array", "items": { "$ref": "#/definitions/conditions" } },
            ]
        },
        "not": strings,
        "docs": {
            "type": "array",
            "items": { "type": "string", "pattern": "^https?://" },
            "minItems": 1,
        },
        "supersedes": { "type": "array", "items": { "type": "string" } },
        "example": { "type": "array", "items": { "$ref": "#/definitions/example" }, "minItems": 2 },
    });
    let Value::Object(types) = types else {
        unreachable!()
    };
    let properties = keyed(RULE_KEYS, types);
    json!({
        "type": "object",
        "description": "One rule: when its conditions hold for a failing exchange, faultline explains the failure with its texts.",
        "properties": properties,
        "required": required(RULE_KEYS),
        "additionalProperties": false,
    })
}

fn example() -> Value {
    let types = json!({ "matches": { "type": "boolean" } });
    let Value::Object(types) = types else {
        unreachable!()
    };
    let properties = keyed(EXAMPLE_KEYS, types);
    json!({
        "type": "object",
        "description": "A test of the rule: `faultline rules test` analyses `input` with only this rule loaded.",
        "properties": properties,
        "required": required(EXAMPLE_KEYS),
        "additionalProperties": false,
    })
}

/// The JSON Schema of a rule file.
pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "faultline rule file",
        "description": "A file of `[[rule]]` tables. Reference: docs/rules.md; validate with `faultline rules check`.",
        "type": "object",
        "properties": {
            "rule": {
                "type": "array",
                "description": "The rules of this file, one `[[rule]]` table each.",
                "items": { "$ref": "#/definitions/rule" },
            }
        },
        "required": ["rule"],
        "additionalProperties": false,
        "definitions": {
            "rule": rule(),
            "example": example(),
            "conditions": conditions(),
            "test": {
                "description": "A test of a fact's value: a value (equals; text is compared case-insensitively), an array (equals one of them), or a table of operators.",
                "anyOf": [
                    { "type": ["string", "number", "boolean"] },
                    { "type": "array", "items": { "type": ["string", "number", "boolean"] }, "minItems": 1 },
                    { "$ref": "#/definitions/operators" },
                ]
            },
            "operators": operators(),
            "field": field_name(),
        }
    })
}
