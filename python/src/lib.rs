//! The native half of the `faultline` Python package: the command line itself,
//! compiled in, and the masker. The Python half (faultline/*.py) builds its
//! objects from the `faultline/report@1` JSON the command line writes, the
//! most stable surface the engine has: the engine's internals are reworked
//! often, its report contract and its flags are kept.

use std::ffi::OsString;
use std::process::ExitCode;

use pyo3::prelude::*;

// The binary's own command line, so that `faultline` installed by pip is the
// same program as `cargo install` gives, and the library's analyses are the
// CLI's. `main` (with the binary's panic hook) is left unused here.
#[allow(dead_code)]
#[path = "../../src/cli/mod.rs"]
mod cli;

// What the command line marks its rule load with. Not this module's global
// allocator: a Python process runs the command line many times, and each
// run's rules are freed after it (the binary's run once, to its end).
#[allow(dead_code)]
#[path = "../../src/arena.rs"]
mod arena;

/// Exit status of a finished command line. `ExitCode` does not expose its
/// number, so it is found by comparison (the CLI only uses small codes).
fn status(code: ExitCode) -> i32 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .map_or(1, i32::from)
}

/// Runs the `faultline` command line on `argv` (argv[0] is the program name)
/// in this process, without holding the GIL, and returns its exit status.
#[pyfunction]
fn run(py: Python<'_>, argv: Vec<OsString>) -> i32 {
    py.detach(|| status(cli::run(argv)))
}

/// `text` with every secret faultline recognises (bearer and Basic
/// credentials, client secrets, passwords, tokens, JWT signatures, cookies)
/// masked, as in its reports.
#[pyfunction]
fn mask(text: &str) -> String {
    faultline::mask::mask(text).into_owned()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(mask, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
