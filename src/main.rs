//! The `stsd` binary: everything is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    stsd::cli::main()
}
