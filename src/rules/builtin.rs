//! The built-in rule pack, embedded and validated at build time by
//! `build.rs`: its rules arrive serialised (postcard), so start-up only
//! deserialises them.
//! Their examples are stored apart and read only when asked for.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::literals::{Factors, pattern_factors};
use super::{Example, Rule, RuleSource, Source, reading_from};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
/// (pattern, least length, its factors): see [`factors`].
type FactorsEntry = (
    &'static str,
    usize,
    Option<&'static [&'static [&'static str]]>,
);
include!(concat!(env!("OUT_DIR"), "/builtin_factors.rs"));

/// The built-in rule files as written, in path order (for `rules test
/// --builtin`, `rules check` and the tests, which validate them in full).
pub fn sources() -> Vec<RuleSource> {
    BUILTIN_RULE_FILES
        .iter()
        .map(|(name, text)| RuleSource::new(*name, *text, true))
        .collect()
}

/// The built-in provider data files (hosts, regions, vocabulary), as
/// written (for the tests, which check that they read and compile).
#[cfg(test)]
pub static PROVIDER_TEXTS: &[&str] = BUILTIN_PROVIDER_FILES;

/// The built-in provider data, as build.rs read it from [`PROVIDER_TEXTS`].
pub fn provider_files() -> Vec<crate::providers::ProviderFile> {
    // Written by build.rs from these same types: it cannot fail to read back.
    postcard::from_bytes(BUILTIN_PROVIDERS).expect("build.rs writes readable provider data")
}

/// The pack's rules, without their examples (see [`examples`]).
pub fn pack() -> Vec<Rule> {
    // Written by build.rs from these same types: it cannot fail to read back.
    // The rules' encoded blocks stay parts of the embedded pack, their
    // prose parts of the block embedded beside it.
    reading_from(
        Source::StaticProseApart(BUILTIN_PACK, BUILTIN_PROSE),
        || postcard::from_bytes(BUILTIN_PACK).expect("build.rs writes a readable pack"),
    )
}

/// Drops this process's resident copies of the pack's and its prose's
/// pages. They are bytes of the binary's file mapping, and the kernel maps
/// each page read with its neighbours (fault-around, 64 KiB): the prose of
/// the few dozen rules a big log's failures show kept 1.6 MiB resident, a
/// fortieth of its run's peak. The page cache keeps the pages, so a later
/// read maps them again, from memory.
#[cfg(target_os = "linux")]
pub fn drop_resident_pages() {
    // SAFETY: sysconf only reads a constant.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    for bytes in [BUILTIN_PACK, BUILTIN_PROSE] {
        // Whole pages inside the block only.
        let start = (bytes.as_ptr() as usize).next_multiple_of(page);
        let end = (bytes.as_ptr() as usize + bytes.len()) & !(page - 1);
        if end > start {
            // SAFETY: the range is read-only data of the executable's
            // private file mapping, never written: dropping its pages only
            // makes the next read fault them in again, same bytes.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn drop_resident_pages() {}

/// A hash of the pack and the provider data as embedded (what the rule
/// cache keys its entries on), found by build.rs.
pub fn pack_hash() -> u64 {
    BUILTIN_PACK_HASH
}

/// The examples of a built-in rule (the pack's rules carry none).
pub fn examples(id: &str) -> &'static [Example] {
    static EXAMPLES: LazyLock<HashMap<String, Vec<Example>>> = LazyLock::new(|| {
        let pairs: Vec<(String, Vec<Example>)> =
            serde_json::from_str(BUILTIN_EXAMPLES).expect("build.rs writes readable examples");
        pairs.into_iter().collect()
    });
    EXAMPLES.get(id).map_or(&[], Vec::as_slice)
}

/// [`pattern_factors`], found by build.rs for the built-in provider data's
/// patterns (a regex parse each saved on every start) and here for others.
pub fn factors(pattern: &str, min_len: usize) -> Option<Factors> {
    match BUILTIN_FACTORS.binary_search_by(|(p, n, _)| (*p, *n).cmp(&(pattern, min_len))) {
        Ok(i) => BUILTIN_FACTORS[i].2.map(|sets| {
            sets.iter()
                .map(|set| set.iter().map(|f| f.to_string()).collect())
                .collect()
        }),
        Err(_) => pattern_factors(pattern, min_len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_pack_s_resident_pages_keeps_its_bytes() {
        let sum = |bytes: &[u8]| {
            bytes
                .iter()
                .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        };
        let before = (sum(BUILTIN_PACK), sum(BUILTIN_PROSE));
        let rules = pack().len();
        drop_resident_pages();
        assert_eq!((sum(BUILTIN_PACK), sum(BUILTIN_PROSE)), before);
        assert_eq!(pack().len(), rules);
    }

    /// A start trusts the pack's blocks unchecked (see `Encoded::of_checked`);
    /// a test build checks each, so a damaged one fails to read here.
    #[test]
    fn every_block_of_the_pack_reads_back_checked() {
        let read: Vec<String> = pack().into_iter().map(|rule| rule.id).collect();
        let parsed: Vec<String> = crate::rules::load::load(&sources())
            .rules
            .into_iter()
            .map(|rule| rule.id)
            .collect();
        assert!(read.len() > 1000);
        assert_eq!(read, parsed);
    }

    #[test]
    fn build_time_factors_are_the_ones_found_at_run_time() {
        assert!(BUILTIN_FACTORS.len() > 50, "the provider patterns");
        for (pattern, min_len, _) in BUILTIN_FACTORS {
            assert_eq!(
                factors(pattern, *min_len),
                pattern_factors(pattern, *min_len),
                "{pattern}"
            );
        }
        // Another pattern is parsed here.
        assert_eq!(
            factors("(?i)quota exhausted", 2),
            pattern_factors("(?i)quota exhausted", 2)
        );
    }
}
