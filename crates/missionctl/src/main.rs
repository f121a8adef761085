//! The `missionctl` binary.

fn main() -> std::process::ExitCode {
    missionctl::run()
}
