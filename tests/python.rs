//! The Python package's tests (python/run_tests.sh: a fresh virtual
//! environment, the wheel built from this checkout, pytest), so that the
//! README's one test command covers them. They take minutes and need PyPI
//! for their dependencies, so this test is skipped, with the reason printed,
//! where `python3` or `bash` is missing, where the script cannot set up its
//! environment (exit 3: no venv module, PyPI unreachable), and when
//! FAULTLINE_SKIP_PYTHON_TESTS is set (.ci/run runs the script as its own
//! step instead).

use std::path::Path;
use std::process::Command;

fn skip(why: &str) {
    eprintln!("python package tests skipped: {why}");
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn python_package_tests() {
    if std::env::var_os("FAULTLINE_SKIP_PYTHON_TESTS").is_some() {
        return skip("FAULTLINE_SKIP_PYTHON_TESTS is set");
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    if !runs(&python) {
        return skip(&format!("no `{python}` on this machine"));
    }
    if !runs("bash") {
        return skip("no `bash` on this machine");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("python").join("run_tests.sh"))
        .current_dir(root)
        .env("PYTHON", &python)
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => {}
        Some(3) => skip(text.trim()),
        code => panic!("python/run_tests.sh exited {code:?}:\n{text}"),
    }
}
