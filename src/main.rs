//! The `stsd` binary: everything is in the library's `cli` module.
//!
//! The global allocator is mimalloc: the request path allocates many small,
//! short-lived strings across tokio's worker threads, where glibc's
//! allocator spent about a fifth of the daemon's time under load
//! (BENCHMARKS.md, "AssumeRole over HTTP").

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    stsd::cli::main()
}
