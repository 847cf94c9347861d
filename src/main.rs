//! The `faultline` binary: the command line lives in `cli/`, the analysis in
//! the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
