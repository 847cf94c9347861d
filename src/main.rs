//! The `faultline` binary: the command line lives in `cli/`, the analysis in
//! the library.

mod arena;
mod cli;

#[global_allocator]
static ALLOCATOR: arena::Allocator = arena::Allocator;

fn main() -> std::process::ExitCode {
    cli::main()
}
