//! Embeds the built-in rule pack (every `.toml` under `rules/`) in the
//! binary, so the pack is versioned with the code that reads it, and
//! validates it here, once: the rule files are run through the loader's own
//! validation (`src/rules/load/validate.rs`, compiled into this script, which
//! also finds each pattern's literal factors) and the rules are stored in
//! postcard's compact binary form, which start-up only deserialises. Parsing
//! and validating the TOML on every start cost more than the rest of a
//! pasted-body run; this does not grow with the pack.
//!
//! Field names are checked against the facts catalogue at test time, not
//! here (the catalogue lives with the facts code): `tests/rule_examples.rs`
//! loads the TOML sources with the full loader and requires no problems, and
//! that the result equals this pack.

// Parts of the included modules serve only the crate.
#![allow(dead_code)]

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Stand-in for the facts catalogue (see above): every field is accepted.
mod facts {
    pub const FIELDS: &[(&str, &str, &str)] = &[];
    pub const FIELD_PREFIXES: &[(&str, &str, &str)] = &[];
    pub fn is_known_field(_: &str) -> bool {
        true
    }
}

/// The rule model and the per-file loader, as the crate has them.
mod rules {
    #[path = "../src/rules/digest.rs"]
    pub mod digest;
    #[path = "../src/rules/literals.rs"]
    pub mod literals;
    #[path = "../src/rules/model.rs"]
    mod model;
    pub use model::*;

    #[path = "../src/rules/load"]
    pub mod load {
        pub mod catalogue;
        pub mod problems;
        pub mod source;
        pub mod validate;
        pub use source::{FileStamp, RuleSource};
    }
}

/// The provider file's types, as the crate reads them.
#[path = "src/providers/data.rs"]
mod provider_data;

use rules::load::source::{LineIndex, RuleSource};
use rules::load::validate::{FileLoader, Parsed};

/// Writes a fresh file and renames it over `path`, never writing into the old
/// one: a target directory copied with hard links (one per worktree) shares
/// OUT_DIR files, and writing in place changed every copy's built-in pack.
fn write_new_file(path: &Path, bytes: &[u8]) {
    let fresh = path.with_extension("new");
    fs::write(&fresh, bytes).unwrap();
    fs::rename(&fresh, path).unwrap();
}

/// The literal factors of the built-in provider data's patterns, as
/// `rules::builtin::factors` looks them up: (pattern, least length,
/// factors), sorted. Finding them costs a regex parse each, which a start
/// paid for the few dozen patterns a paste touches (`vocabulary` and
/// `clock_quotes` at length 2, `messages` also at 4 for the parse stage).
fn provider_factors(texts: &[String]) -> String {
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for text in texts {
        let table: toml::Table = toml::from_str(text).expect("provider data parses");
        wanted.extend(
            strings(table.get("clock_quotes"))
                .into_iter()
                .map(|p| (p, 2)),
        );
        for provider in table
            .get("provider")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            wanted.extend(
                strings(provider.get("vocabulary"))
                    .into_iter()
                    .map(|p| (p, 2)),
            );
            for m in strings(provider.get("messages")) {
                wanted.push((m.clone(), 2));
                wanted.push((m, 4));
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    let mut code = String::from("pub static BUILTIN_FACTORS: &[FactorsEntry] = &[\n");
    for (pattern, min_len) in &wanted {
        let factors = match rules::literals::pattern_factors(pattern, *min_len) {
            Some(sets) => format!(
                "Some(&[{}])",
                sets.iter()
                    .map(|set| format!("&{set:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "None".to_string(),
        };
        code.push_str(&format!("    ({pattern:?}, {min_len}, {factors}),\n"));
    }
    code.push_str("];\n");
    code
}

/// FNV-1a, 64 bits: stable across builds and Rust versions.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        // The length too, so that two texts cannot run into each other.
        for b in (bytes.len() as u64).to_le_bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=rules");
    let mut files = Vec::new();
    collect(&root.join("rules"), &mut files);
    files.sort();
    // benches/startup.sh builds a second binary with a pack ten times the
    // size (synthetic rules) to measure how start-up grows with the pack.
    println!("cargo:rerun-if-env-changed=FAULTLINE_BENCH_EXTRA_RULES");
    if let Some(extra) = env::var_os("FAULTLINE_BENCH_EXTRA_RULES") {
        let extra = PathBuf::from(extra);
        println!("cargo:rerun-if-changed={}", extra.display());
        let mut more = Vec::new();
        collect(&extra, &mut more);
        more.sort();
        files.extend(more);
    }
    let mut table = String::from("pub static BUILTIN_RULE_FILES: &[(&str, &str)] = &[\n");
    // As written, for the tests only: a start reads them parsed (below).
    let mut provider_files =
        String::from("#[cfg(test)]\npub static BUILTIN_PROVIDER_FILES: &[&str] = &[\n");
    let mut pack: Vec<rules::Rule> = Vec::new();
    let mut provider_texts = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        table.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.to_string_lossy()
        ));
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let source = RuleSource::new(rel.clone(), text, true);
        let mut loader = FileLoader::new(&source);
        match loader.parse() {
            Parsed::Providers => {
                provider_files.push_str(&format!("    include_str!({:?}),\n", f.to_string_lossy()));
                provider_texts.push(source.text().to_string());
            }
            Parsed::Unparsable => {}
            Parsed::Rules(rules) => {
                pack.extend(rules.into_iter().filter(|r| r.valid).map(|r| r.rule))
            }
        }
        // A problem in the built-in pack fails the tests; say it here too.
        let lines = LineIndex::new(source.text());
        for p in &loader.problems {
            println!(
                "cargo:warning={rel}:{}: {} [{}]",
                lines.line(p.offset()),
                p.message,
                p.code
            );
        }
    }
    table.push_str("];\n");
    provider_files.push_str("];\n");
    // Examples are two fifths of the pack and only `rules test`, `explain`
    // and `rules check` read them: stored apart, read on demand.
    let examples: Vec<(String, Vec<rules::Example>)> = pack
        .iter_mut()
        .map(|r| (r.id.clone(), std::mem::take(&mut r.examples)))
        .collect();
    // postcard, not JSON: the pack is read on every start, and reading
    // length-prefixed binary took a fraction of parsing 1.3 MB of JSON.
    // The rules' prose (title, cause, fix, docs…) is written apart: read
    // only for a rule that fires, it no longer shares the pages every
    // start reads (as a rule cache entry's, see `writing_apart`).
    let (bytes, prose) =
        rules::writing_apart(|| postcard::to_allocvec(&pack).expect("rules serialise"));
    write_new_file(&out_dir.join("builtin_pack.bin"), bytes.as_slice());
    write_new_file(&out_dir.join("builtin_prose.bin"), prose.as_slice());
    let json = serde_json::to_string(&examples).expect("examples serialise");
    write_new_file(&out_dir.join("builtin_examples.json"), json.as_bytes());
    // Parsed here, once: a start read the 50 KB of TOML, a tenth of a
    // pasted body's run (callgrind). A file that does not read is left
    // out and said; the tests parse every one and fail on it.
    let provider_data: Vec<provider_data::ProviderFile> = provider_texts
        .iter()
        .filter_map(|text| match toml::from_str(text) {
            Ok(file) => Some(file),
            Err(e) => {
                println!("cargo:warning=provider data does not read: {e}");
                None
            }
        })
        .collect();
    let provider_bytes = postcard::to_allocvec(&provider_data).expect("provider data serialises");
    write_new_file(&out_dir.join("builtin_providers.bin"), &provider_bytes);
    let factors = provider_factors(&provider_texts);
    write_new_file(&out_dir.join("builtin_factors.rs"), factors.as_bytes());
    // What the rule cache keys its entries on (user rules are validated
    // against the pack and provider data), found here rather than by
    // hashing a megabyte on every cached start.
    let mut hash = Fnv::default();
    hash.write(&bytes);
    hash.write(&prose);
    for text in &provider_texts {
        hash.write(text.as_bytes());
    }
    let code = format!(
        "{table}{provider_files}pub static BUILTIN_PACK: &[u8] = include_bytes!({:?});\npub static BUILTIN_PROSE: &[u8] = include_bytes!({:?});\npub static BUILTIN_EXAMPLES: &str = include_str!({:?});\npub static BUILTIN_PACK_HASH: u64 = {:#x};\npub static BUILTIN_PROVIDERS: &[u8] = include_bytes!({:?});\n",
        out_dir.join("builtin_pack.bin").to_string_lossy(),
        out_dir.join("builtin_prose.bin").to_string_lossy(),
        out_dir.join("builtin_examples.json").to_string_lossy(),
        hash.0,
        out_dir.join("builtin_providers.bin").to_string_lossy(),
    );
    write_new_file(&out_dir.join("builtin_rules.rs"), code.as_bytes());
}
