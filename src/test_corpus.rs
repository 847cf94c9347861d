//! Inputs the unit tests read: every file of the fixtures and of the field
//! corpus, in a fixed order, for properties that must hold on all of them.

/// Each file under `fixtures/` and `tests/field/cases/`, sorted by name,
/// read lossily as text.
pub(crate) fn fixture_and_field_texts() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["fixtures", "tests/field/cases"] {
        for entry in walkdir::WalkDir::new(root.join(dir))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            let bytes = std::fs::read(entry.path()).unwrap();
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

/// Every line of [`fixture_and_field_texts`], owned, for tests that add
/// made edge lines of their own.
pub(crate) fn fixture_and_field_lines() -> Vec<String> {
    fixture_and_field_texts()
        .iter()
        .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// The texts of the logs named in `FAULTLINE_TEST_LOGS` (`:`-separated),
/// read lossily; none when it is not set. For running a fast path's
/// agreement test over a benchmark log by hand.
pub(crate) fn named_test_logs() -> Vec<String> {
    std::env::var("FAULTLINE_TEST_LOGS")
        .map(|paths| {
            paths
                .split(':')
                .map(|path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned())
                .collect()
        })
        .unwrap_or_default()
}
