//! Keeps the core crate pure: no file system, process, environment, clock or network access.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::process",
    "std::env",
    "std::net",
    "std::time::SystemTime",
    "std::time::Instant",
    "SystemTime::now",
    "Instant::now",
    "std::thread::sleep",
    "File::open",
    "File::create",
    "Command::new",
];

fn visit(dir: &Path, found: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).expect("src directory is readable");
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            visit(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).expect("source file is UTF-8");
            for needle in FORBIDDEN {
                if text.contains(needle) {
                    found.push(format!("{}: {needle}", path.display()));
                }
            }
        }
    }
}

#[test]
fn core_sources_use_no_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    visit(&src, &mut found);
    assert!(
        found.is_empty(),
        "impure code in the core crate: {found:#?}"
    );
}

#[test]
fn core_depends_on_no_io_crates() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("manifest is readable");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or_default();
    for banned in ["gix", "tempfile", "tokio", "ulid", "git2", "jiff", "chrono"] {
        assert!(
            !dependencies.contains(banned),
            "the core crate must not depend on `{banned}`"
        );
    }
}
