//! Interoperability with Spec Kitty 3.2.7: a repository holding what Spec Kitty wrote reads
//! exactly as Spec Kitty's own `status.json` says, for the flat `lanes` mission of the peer
//! run and for the coordination shape (status on `kitty/mission-<slug>-<mid8>`, checked out in
//! `.worktrees/<slug>-<mid8>-coord`); and the rows missionctl appends have Spec Kitty's writer
//! shape, byte for byte.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::status_env::{APPROVED_EVIDENCE, data};

/// The peer run's mission directory name.
const SLUG: &str = "task-list-01M803MD";

/// The vendored copy of the peer run (`tests/fixtures/peer-run-3.2.7`).
fn vendored() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/peer-run-3.2.7")
}

/// The shared copy, when present (`MISSIONCTL_CONFORMANCE_DIR` or `../shared/conformance`).
fn shared() -> Option<PathBuf> {
    let base = std::env::var_os("MISSIONCTL_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    let dir = base.join("peer-run-3.2.7");
    dir.is_dir().then_some(dir)
}

#[test]
fn the_vendored_peer_run_is_the_shared_one() -> TestResult {
    let Some(shared) = shared() else {
        return Ok(());
    };
    for folder in [SLUG, "mission1-pre-merge-snapshot"] {
        for entry in std::fs::read_dir(vendored().join(folder))? {
            let path = entry?.path();
            if path.is_file() {
                let name = path.file_name().unwrap_or_default();
                assert_eq!(
                    std::fs::read(&path)?,
                    std::fs::read(shared.join(folder).join(name))?,
                    "{}",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// A repository on `feature/task-list` (the peer mission's target branch), `main` below it.
struct PeerRepo {
    env: TestEnv,
    root: PathBuf,
}

impl PeerRepo {
    fn new() -> anyhow::Result<PeerRepo> {
        let env = TestEnv::new()?;
        let root = env.root().join("demo-repo");
        std::fs::create_dir(&root)?;
        let root = std::fs::canonicalize(root)?;
        let repo = PeerRepo { env, root };
        repo.git(&["init", "--quiet", "--initial-branch", "main"])?;
        repo.git(&["config", "user.name", "Test Author"])?;
        repo.git(&["config", "user.email", "author@example.com"])?;
        // As `spec-kitty init` leaves it.
        std::fs::write(repo.root.join(".gitignore"), ".worktrees/\n")?;
        repo.git(&["add", ".gitignore"])?;
        repo.git(&["commit", "--quiet", "-m", "init"])?;
        repo.git(&["switch", "--quiet", "-c", "feature/task-list"])?;
        Ok(repo)
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        self.env.git(&self.root, args)
    }

    /// Copies a vendored folder's files into `kitty-specs/<SLUG>/` of `worktree`.
    fn copy_mission(&self, folder: &str, worktree: &Path) -> anyhow::Result<PathBuf> {
        let source = vendored().join(folder);
        let target = worktree.join("kitty-specs").join(SLUG);
        std::fs::create_dir_all(target.join("tasks"))?;
        for entry in std::fs::read_dir(&source)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::copy(&path, target.join(path.file_name().unwrap_or_default()))?;
            }
        }
        let tasks = vendored().join(SLUG).join("tasks");
        for entry in std::fs::read_dir(&tasks)? {
            let path = entry?.path();
            // The review-cycle directories (`tasks/<stem>/`) are not part of the snapshot.
            if !path.is_file() {
                continue;
            }
            std::fs::copy(
                &path,
                target
                    .join("tasks")
                    .join(path.file_name().unwrap_or_default()),
            )?;
        }
        Ok(target)
    }

    fn board(&self) -> anyhow::Result<Value> {
        data(
            &self
                .env
                .run_in(&self.root, ["--json", "board", "--mission", SLUG])
                .success(),
        )
    }
}

/// Checks that a board shows what Spec Kitty's `status.json` says.
fn assert_board_matches(board: &Value, expected: &Value) {
    assert_eq!(board["mission_slug"], SLUG);
    let by_lane: serde_json::Map<String, Value> = expected["summary"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, count)| count.as_u64() != Some(0))
        .map(|(lane, count)| (lane.clone(), count.clone()))
        .collect();
    assert_eq!(board["by_lane"], Value::Object(by_lane));
    let cards = board["work_packages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expected_wps = expected["work_packages"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(cards.len(), expected_wps.len());
    for card in &cards {
        let id = card["id"].as_str().unwrap_or_default();
        let state = &expected_wps[id];
        assert_eq!(card["lane"], state["lane"], "{id}");
        assert_eq!(
            card["agent"],
            state.get("agent").cloned().unwrap_or(Value::from("")),
            "{id}"
        );
    }
}

#[test]
fn a_spec_kitty_lanes_mission_reads_as_spec_kitty_says() -> TestResult {
    for folder in [SLUG, "mission1-pre-merge-snapshot"] {
        let repo = PeerRepo::new()?;
        let dir = repo.copy_mission(folder, &repo.root)?;
        repo.git(&["add", "kitty-specs"])?;
        repo.git(&["commit", "--quiet", "-m", "what Spec Kitty wrote"])?;
        let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("status.json"))?)?;
        let board = repo.board()?;
        assert_eq!(board["topology"], "lanes");
        assert_eq!(board["read_surface"], "primary");
        assert_board_matches(&board, &expected);
        assert_eq!(board["work_packages"][0]["title"], "Storage layer");

        // Spec Kitty's snapshot is exactly missionctl's: it validates and nothing is rewritten.
        let before = std::fs::read(dir.join("status.json"))?;
        repo.env
            .run_in(
                &repo.root,
                ["--json", "status", "validate", "--mission", SLUG],
            )
            .success();
        let materialized = data(
            &repo
                .env
                .run_in(
                    &repo.root,
                    ["--json", "status", "materialize", "--mission", SLUG],
                )
                .success(),
        )?;
        assert_eq!(materialized["changed"], false, "{folder}");
        assert_eq!(materialized["receipt"]["is_noop"], true, "{folder}");
        assert_eq!(std::fs::read(dir.join("status.json"))?, before);
        let history = data(
            &repo
                .env
                .run_in(
                    &repo.root,
                    ["--json", "history", "--mission", SLUG, "--wp", "WP03"],
                )
                .success(),
        )?;
        assert!(
            history["events"]
                .as_array()
                .is_some_and(|rows| rows.iter().any(|row| row["to_lane"] == "in_review")),
            "{history}"
        );
    }
    Ok(())
}

/// Serializes a JSON value as Python's `json.dumps(value, sort_keys=True)` does (separators
/// `", "` and `": "`, `ensure_ascii`): written here independently of missionctl's writer, and
/// checked against every row Spec Kitty wrote.
fn python_dumps(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => {
            out.push('"');
            for ch in text.chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    ' '..='~' => out.push(ch),
                    _ => {
                        let mut units = [0u16; 2];
                        for unit in ch.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                python_dumps(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                python_dumps(&Value::String(key.clone()), out);
                out.push_str(": ");
                python_dumps(&map[key], out);
            }
            out.push('}');
        }
    }
}

/// Returns a row re-serialized the way Spec Kitty writes it.
fn as_spec_kitty_writes(line: &str) -> anyhow::Result<String> {
    let value: Value = serde_json::from_str(line)?;
    let mut out = String::new();
    python_dumps(&value, &mut out);
    Ok(out)
}

/// Returns the keys of a row, in the order they appear.
fn key_order(line: &str) -> anyhow::Result<Vec<String>> {
    let value: Value = serde_json::from_str(line)?;
    let mut keys: Vec<String> = value
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default();
    // The order in the text, not serde_json's map order.
    keys.sort_by_key(|key| line.find(&format!("\"{key}\": ")).unwrap_or(usize::MAX));
    Ok(keys)
}

#[test]
fn appended_rows_have_spec_kittys_writer_shape() -> TestResult {
    let repo = PeerRepo::new()?;
    let dir = repo.copy_mission("mission1-pre-merge-snapshot", &repo.root)?;
    repo.git(&["add", "kitty-specs"])?;
    repo.git(&["commit", "--quiet", "-m", "what Spec Kitty wrote"])?;
    let peer_log = std::fs::read_to_string(dir.join("status.events.jsonl"))?;

    // The reference serializer reproduces every row Spec Kitty wrote, byte for byte.
    for line in peer_log.lines() {
        assert_eq!(as_spec_kitty_writes(line)?, line);
    }

    // Moves through missionctl: a guarded one with evidence and non-ASCII text, a forced one,
    // and one with a note (a transition and an annotation row).
    let run = |args: &[&str]| {
        let mut all = vec!["--json", "move"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--mission", SLUG]);
        repo.env.run_in(&repo.root, all).success()
    };
    run(&[
        "WP01",
        "--to",
        "done",
        "--actor",
        "merge",
        "--reason",
        "Fusionné \"WP01\" ✓ 🚀\tdone",
        "--evidence-json",
        APPROVED_EVIDENCE,
    ]);
    run(&[
        "WP02", "--to", "planned", "--force", "--actor", "claude", "--reason", "rework",
    ]);
    run(&[
        "WP03",
        "--to",
        "in_progress",
        "--actor",
        "claude",
        "--review-ref",
        "review://3",
        "--note",
        "naïve note",
    ]);

    let log = std::fs::read_to_string(dir.join("status.events.jsonl"))?;
    let appended: Vec<&str> = log
        .strip_prefix(peer_log.as_str())
        .ok_or_else(|| anyhow::anyhow!("the existing bytes were not kept"))?
        .lines()
        .collect();
    assert_eq!(appended.len(), 4, "{log}");
    let peer_transition = peer_log
        .lines()
        .find(|line| {
            line.contains("\"from_lane\": \"in_review\"")
                && line.contains("\"to_lane\": \"approved\"")
        })
        .ok_or_else(|| anyhow::anyhow!("no review exit in the peer log"))?;
    let peer_plain = peer_log
        .lines()
        .find(|line| line.contains("\"to_lane\": \"claimed\""))
        .ok_or_else(|| anyhow::anyhow!("no claim in the peer log"))?;
    let peer_annotation = peer_log
        .lines()
        .find(|line| line.contains("\"kind\": \"annotation\""))
        .ok_or_else(|| anyhow::anyhow!("no annotation in the peer log"))?;
    for line in &appended {
        assert!(line.is_ascii(), "ensure_ascii: {line}");
        assert_eq!(as_spec_kitty_writes(line)?, *line, "writer shape");
        let keys = key_order(line)?;
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "sorted keys: {line}");
        // The same keys as Spec Kitty's rows of the same kind (`review_result` only when set).
        let reference = if line.contains("\"kind\": \"annotation\"") {
            peer_annotation
        } else {
            peer_plain
        };
        assert_eq!(keys, key_order(reference)?, "{line}");
    }
    let first: Value = serde_json::from_str(appended[0])?;
    assert_eq!(first["reason"], "Fusionné \"WP01\" ✓ 🚀\tdone");
    assert!(appended[0].contains("Fusionn\\u00e9 \\\"WP01\\\" \\u2713 \\ud83d\\ude80\\tdone"));
    assert_eq!(
        key_order(peer_transition)?.len(),
        key_order(peer_plain)?.len() + 1
    );

    // The snapshot still agrees with Spec Kitty's for the work packages not moved, and the
    // whole log validates.
    let expected: Value = serde_json::from_slice(&std::fs::read(
        vendored().join("mission1-pre-merge-snapshot/status.json"),
    )?)?;
    let snapshot: Value = serde_json::from_slice(&std::fs::read(dir.join("status.json"))?)?;
    assert_eq!(
        snapshot["work_packages"]["WP04"],
        expected["work_packages"]["WP04"]
    );
    assert_eq!(snapshot["work_packages"]["WP01"]["lane"], "done");
    assert_eq!(
        snapshot["work_packages"]["WP02"]["force_count"].as_u64(),
        expected["work_packages"]["WP02"]["force_count"]
            .as_u64()
            .map(|count| count + 1)
    );
    assert_eq!(
        snapshot["work_packages"]["WP03"]["notes"],
        serde_json::json!(["naïve note"])
    );
    repo.env
        .run_in(
            &repo.root,
            ["--json", "status", "validate", "--mission", SLUG],
        )
        .success();
    Ok(())
}

#[test]
fn a_spec_kitty_coordination_mission_reads_and_writes_its_coordination_branch() -> TestResult {
    let repo = PeerRepo::new()?;
    // The mission as Spec Kitty lays out a coordination mission: the coordination branch in
    // `meta.json`, planning artifacts on the target branch with a stale copy of the log…
    let dir = repo.copy_mission(SLUG, &repo.root)?;
    let mut meta: Value = serde_json::from_slice(&std::fs::read(dir.join("meta.json"))?)?;
    let branch = format!("kitty/mission-{SLUG}");
    meta["topology"] = Value::from("coord");
    meta["coordination_branch"] = Value::from(branch.as_str());
    std::fs::write(
        dir.join("meta.json"),
        format!("{}\n", serde_json::to_string_pretty(&meta)?),
    )?;
    std::fs::remove_file(dir.join("lanes.json"))?;
    let peer_log = std::fs::read_to_string(dir.join("status.events.jsonl"))?;
    let stale: String = peer_log
        .lines()
        .take(12)
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(dir.join("status.events.jsonl"), &stale)?;
    std::fs::remove_file(dir.join("status.json"))?;
    repo.git(&["add", "-A", "kitty-specs"])?;
    repo.git(&["commit", "--quiet", "-m", "planning artifacts"])?;
    // …and the status on the coordination branch, checked out in its worktree.
    repo.git(&["branch", &branch])?;
    let worktree = repo.root.join(".worktrees").join(format!("{SLUG}-coord"));
    repo.git(&[
        "worktree",
        "add",
        "--quiet",
        &worktree.display().to_string(),
        &branch,
    ])?;
    let coord_dir = worktree.join("kitty-specs").join(SLUG);
    for file in ["status.events.jsonl", "status.json"] {
        std::fs::copy(
            vendored().join("mission1-pre-merge-snapshot").join(file),
            coord_dir.join(file),
        )?;
    }
    repo.env.git(&worktree, &["add", "kitty-specs"])?;
    repo.env.git(
        &worktree,
        &[
            "commit",
            "--quiet",
            "-m",
            "chore(spec-kitty): status transition batch",
        ],
    )?;
    let target_tip = repo.git(&["rev-parse", "feature/task-list"])?;

    let expected: Value = serde_json::from_slice(&std::fs::read(
        vendored().join("mission1-pre-merge-snapshot/status.json"),
    )?)?;
    let board = repo.board()?;
    assert_eq!(board["topology"], "coord");
    assert_eq!(board["read_surface"], "coordination");
    assert_board_matches(&board, &expected);

    // A move lands on the coordination branch, from its worktree.
    let output = repo.env.run_in(
        &repo.root,
        [
            "--json",
            "move",
            "WP04",
            "--to",
            "done",
            "--mission",
            SLUG,
            "--actor",
            "merge",
            "--evidence-json",
            APPROVED_EVIDENCE,
        ],
    );
    let moved = data(&output.success())?;
    assert_eq!(moved["receipt"]["destination_ref"], branch.as_str());
    assert_eq!(
        moved["receipt"]["worktree_root"],
        worktree.display().to_string()
    );
    assert_eq!(repo.git(&["rev-parse", "feature/task-list"])?, target_tip);
    assert_eq!(
        std::fs::read_to_string(dir.join("status.events.jsonl"))?,
        stale
    );
    let committed = repo.git(&[
        "show",
        &format!("{branch}:kitty-specs/{SLUG}/status.events.jsonl"),
    ])?;
    assert!(committed.starts_with(&std::fs::read_to_string(
        vendored().join("mission1-pre-merge-snapshot/status.events.jsonl")
    )?));
    assert_eq!(repo.board()?["by_lane"]["done"], 1);
    for checkout in [&repo.root, &worktree] {
        assert_eq!(
            repo.env.git(
                checkout,
                &["status", "--porcelain", "--untracked-files=all"]
            )?,
            "",
            "{}",
            checkout.display()
        );
    }
    Ok(())
}

#[test]
fn spec_kitty_reads_the_moves_missionctl_committed() -> TestResult {
    use crate::common::spec_kitty::{run_spec_kitty, spec_kitty};
    let Some(spec_kitty) = spec_kitty("spec_kitty_reads_the_moves_missionctl_committed") else {
        return Ok(());
    };
    let repo = PeerRepo::new()?;
    repo.copy_mission("mission1-pre-merge-snapshot", &repo.root)?;
    repo.git(&["add", "kitty-specs"])?;
    repo.git(&["commit", "--quiet", "-m", "what Spec Kitty wrote"])?;
    for args in [
        ["WP01", "--to", "done", "--evidence-json", APPROVED_EVIDENCE].as_slice(),
        ["WP02", "--to", "planned", "--force", "--reason", "rework"].as_slice(),
    ] {
        let mut all = vec!["--json", "move", "--mission", SLUG, "--actor", "claude"];
        all.extend_from_slice(args);
        repo.env.run_in(&repo.root, all).success();
    }

    let home = repo.env.root().join("home");
    let output = run_spec_kitty(
        &spec_kitty,
        &home,
        &repo.root,
        ["agent", "tasks", "status", "--mission", SLUG, "--json"],
    )?;
    anyhow::ensure!(output.status.success(), "{output:?}");
    let theirs: Value = serde_json::from_slice(&output.stdout)?;
    let lanes = |board: &Value| -> Vec<(String, String)> {
        board["work_packages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|wp| (wp["id"].to_string(), wp["lane"].to_string()))
            .collect()
    };
    let ours = repo.board()?;
    assert_eq!(lanes(&theirs), lanes(&ours));
    assert!(lanes(&theirs).contains(&("\"WP01\"".into(), "\"done\"".into())));
    assert!(lanes(&theirs).contains(&("\"WP02\"".into(), "\"planned\"".into())));

    let output = run_spec_kitty(
        &spec_kitty,
        &home,
        &repo.root,
        ["agent", "status", "validate", "--mission", SLUG, "--json"],
    )?;
    let verdict: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(verdict["passed"], true, "{verdict}");
    Ok(())
}
