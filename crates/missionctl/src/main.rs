//! The `missionctl` binary.

/// mimalloc instead of the system allocator: reading a log allocates many small strings,
/// and it makes the reducer about a quarter faster (ADR 0005).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    missionctl::run()
}
