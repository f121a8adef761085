//! Work packages on the planning surface: `wp add`, `tasks finalize`, ready work and its gate,
//! subtasks, and `is_committed`, against real git repositories.

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::planning::lanes_manifest::LanesManifest;
use missionctl_core::planning::task_plan::finalize::{LanesPreview, ValidationReport};
use missionctl_core::status::lane::Lane;
use missionctl_store::clock::SystemClock;
use missionctl_store::planning::tasks_finalize::{
    FinalizeOptions, FinalizeOutcome, FinalizeReport, finalize_tasks,
};
use missionctl_store::planning::work_package_add::{AddWorkPackage, add_work_package};
use missionctl_store::planning::{PlanningSurface, is_committed};
use missionctl_store::repo::Repo;
use missionctl_store::repo::protection::ProtectedBranches;
use missionctl_store::status::{MissionStatus, TransitionRequest};
use missionctl_store::view::ready::mission_readiness;

use crate::common::{TestRepo, TestResult, protected};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Adds a work package through `add_work_package`; it implements the functional requirement
/// of its number (`WP02` → `FR-002`).
fn add(
    repo: &Repo,
    mission: &str,
    wp_id: &str,
    dependencies: &[&str],
    subtasks: &[&str],
    owned: &[&str],
) -> Result<(), Box<dyn std::error::Error>> {
    add_work_package(
        repo,
        mission,
        &AddWorkPackage {
            wp_id: wp_id.to_owned(),
            title: format!("Work package {wp_id}"),
            dependencies: strings(dependencies),
            subtasks: strings(subtasks),
            owned_files: strings(owned),
            requirement_refs: vec![format!(
                "FR-00{}",
                wp_id[2..].parse::<u32>().map_or(1, |number| number.min(3))
            )],
            ..AddWorkPackage::default()
        },
        &protected(),
    )?;
    Ok(())
}

/// Commits what the plan of [`planned_mission`] refers to: a `spec.md` declaring FR-001 to
/// FR-003, and the literal files its work packages own.
fn commit_plan_context(test: &TestRepo, mission: &str) -> Result<(), Box<dyn std::error::Error>> {
    test.write(
        &format!("kitty-specs/{mission}/spec.md"),
        "# Spec\n\n## Functional Requirements\n\n- FR-001: store\n- FR-002: read\n- FR-003: list\n",
    )?;
    test.write("src/a/x.py", "")?;
    test.write("src/b/d.py", "")?;
    test.git(&[
        "add",
        "--",
        &format!("kitty-specs/{mission}/spec.md"),
        "src",
    ])?;
    test.git(&["commit", "-q", "-m", "Add the spec and sources"])?;
    Ok(())
}

/// A mission of the given topology with three work packages: WP02 depends on WP01 and
/// shares its files (one lane), WP03 is on its own.
pub(crate) fn planned_mission(
    test: &TestRepo,
    topology: MissionTopology,
    n: usize,
) -> Result<String, Box<dyn std::error::Error>> {
    let created = test.create("plan-demo", Some(topology), n)?;
    let repo = test.repo()?;
    let mission = created.mission_slug;
    commit_plan_context(test, &mission)?;
    add(
        &repo,
        &mission,
        "WP01",
        &[],
        &["T001", "T002"],
        &["src/a/**"],
    )?;
    add(
        &repo,
        &mission,
        "WP02",
        &["WP01"],
        &["T003"],
        &["src/a/x.py"],
    )?;
    add(&repo, &mission, "WP03", &[], &["T004"], &["src/b/**"])?;
    Ok(mission)
}

fn run_finalize(
    repo: &Repo,
    mission: &str,
    validate_only: bool,
) -> Result<FinalizeOutcome, Box<dyn std::error::Error>> {
    let protected = protected();
    Ok(finalize_tasks(
        repo,
        mission,
        &FinalizeOptions {
            validate_only,
            protected_branches: &protected,
        },
        &SystemClock,
    )?)
}

fn finalize(repo: &Repo, mission: &str) -> Result<FinalizeReport, Box<dyn std::error::Error>> {
    match run_finalize(repo, mission, false)? {
        FinalizeOutcome::Finalized(report) => Ok(*report),
        FinalizeOutcome::Validated(_) => Err("validated instead of finalized".into()),
    }
}

fn validate(repo: &Repo, mission: &str) -> Result<ValidationReport, Box<dyn std::error::Error>> {
    match run_finalize(repo, mission, true)? {
        FinalizeOutcome::Validated(report) => Ok(*report),
        FinalizeOutcome::Finalized(_) => Err("finalized instead of validated".into()),
    }
}

#[test]
fn wp_add_writes_the_file_and_refuses_bad_input_writing_nothing() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::Lanes, 1)?;
    let repo = test.repo()?;
    let path = test.path(&format!(
        "kitty-specs/{mission}/tasks/WP02-work-package-wp02.md"
    ));
    let text = std::fs::read_to_string(&path)?;
    assert!(
        text.starts_with(
            "---\nwork_package_id: WP02\ntitle: Work package WP02\ndependencies:\n- WP01\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nplanning_base_branch: feature/x\n"),
        "{text}"
    );

    let before = test.snapshot()?;
    let refused = |request: AddWorkPackage| {
        add_work_package(&repo, &mission, &request, &protected())
            .expect_err("refused")
            .code()
    };
    let base = |wp_id: &str| AddWorkPackage {
        wp_id: wp_id.to_owned(),
        title: "T".to_owned(),
        ..AddWorkPackage::default()
    };
    assert_eq!(refused(base("WP01")), "WP_ALREADY_EXISTS");
    assert_eq!(refused(base("WP4")), "INVALID_WP_ID");
    assert_eq!(
        refused(AddWorkPackage {
            title: " ".to_owned(),
            ..base("WP04")
        }),
        "WP_TITLE_MISSING"
    );
    assert_eq!(
        refused(AddWorkPackage {
            dependencies: strings(&["WP09"]),
            ..base("WP04")
        }),
        "DEPENDENCY_UNKNOWN"
    );
    assert_eq!(
        refused(AddWorkPackage {
            owned_files: strings(&["../outside/**"]),
            ..base("WP04")
        }),
        "OWNED_FILE_ESCAPES_REPO"
    );
    assert_eq!(
        refused(AddWorkPackage {
            owned_files: strings(&["src/b/c.py"]),
            ..base("WP04")
        }),
        "OWNED_FILES_OVERLAP"
    );
    assert_eq!(
        refused(AddWorkPackage {
            subtasks: strings(&["T001"]),
            ..base("WP04")
        }),
        "SUBTASK_DUPLICATE"
    );
    assert_eq!(test.snapshot()?, before);
    Ok(())
}

#[test]
fn finalize_seeds_computes_lanes_commits_and_a_second_run_writes_nothing() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::Lanes, 2)?;
    let repo = test.repo()?;

    let before = test.snapshot()?;
    let preview = validate(&repo, &mission)?;
    assert_eq!(test.snapshot()?, before, "--validate-only wrote something");
    assert_eq!(preview.validation.bootstrap_preview.newly_seeded, 3);
    match &preview.validation.lanes_preview {
        LanesPreview::Computed(lanes) => assert_eq!(lanes.lanes.len(), 2),
        LanesPreview::NotComputed => return Err("no lanes previewed".into()),
    }

    let report = finalize(&repo, &mission)?;
    assert_eq!(report.seeded, strings(&["WP01", "WP02", "WP03"]));
    assert!(report.planning_commit.is_some());
    let lanes = LanesManifest::parse(&std::fs::read(
        test.path(&format!("kitty-specs/{mission}/lanes.json")),
    )?)
    .map_err(|error| error.to_string())?;
    let shape: Vec<(&str, Vec<&str>, Vec<&str>)> = lanes
        .lanes
        .iter()
        .map(|lane| {
            (
                lane.lane_id.as_str(),
                lane.wp_ids.iter().map(String::as_str).collect(),
                lane.depends_on_lanes.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("lane-a", vec!["WP01", "WP02"], vec![]),
            ("lane-b", vec!["WP03"], vec![]),
        ]
    );
    // The seed commit, the scaffolded acceptance matrix, then the planning commit, all on the
    // target branch.
    let log = test.git(&["log", "--format=%s", "-4", "feature/x"])?;
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            format!("Add tasks for feature {mission}"),
            format!("chore({mission}): scaffold acceptance-matrix"),
            "chore(missionctl): status transition batch WP01, WP02, WP03".to_owned(),
            "Add the spec and sources".to_owned(),
        ]
    );
    assert_eq!(test.git(&["status", "--porcelain"])?, "");
    let events =
        std::fs::read_to_string(test.path(&format!("kitty-specs/{mission}/status.events.jsonl")))?;
    assert_eq!(events.lines().count(), 3);
    assert!(
        events
            .lines()
            .all(|line| line.contains("\"actor\": \"finalize-tasks\"")
                && line.contains("\"from_lane\": \"genesis\"")
                && line.contains("\"reason\": \"canonical bootstrap\""))
    );

    let settled = test.snapshot()?;
    let again = finalize(&repo, &mission)?;
    assert!(again.is_noop(), "{again:?}");
    assert_eq!(test.snapshot()?, settled, "the second run wrote something");

    // A new work package is seeded alone; the others are never re-seeded.
    add(
        &repo,
        &mission,
        "WP04",
        &["WP03"],
        &["T005"],
        &["src/b/d.py"],
    )?;
    let third = finalize(&repo, &mission)?;
    assert_eq!(third.seeded, strings(&["WP04"]));
    assert!(third.lanes_changed);
    let events =
        std::fs::read_to_string(test.path(&format!("kitty-specs/{mission}/status.events.jsonl")))?;
    assert_eq!(events.lines().count(), 4);
    Ok(())
}

/// Writes a work-package file by hand.
fn write_wp(test: &TestRepo, mission: &str, name: &str, text: &str) -> std::io::Result<()> {
    test.write(&format!("kitty-specs/{mission}/tasks/{name}"), text)
}

/// A bad plan: the refusal's code, the files (name, text) and a part of the message.
type BadPlan = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// The front matter of a work package that implements FR-001, with more lines.
macro_rules! wp {
    ($id:literal, $extra:literal) => {
        concat!(
            "---\nwork_package_id: ",
            $id,
            "\ntitle: A\nrequirement_refs: [FR-001]\n",
            $extra,
            "---\n"
        )
    };
}

#[test]
fn finalize_refuses_bad_plans_as_spec_kitty_does_and_writes_nothing() -> TestResult {
    let cases: [BadPlan; 7] = [
        (
            "DEPENDENCY_CYCLE",
            &[
                ("WP01-a.md", wp!("WP01", "dependencies: [WP02]\n")),
                ("WP02-b.md", wp!("WP02", "dependencies: [WP01]\n")),
            ],
            "Circular dependencies detected: [['WP01', 'WP02', 'WP01']]",
        ),
        (
            "DEPENDENCY_INVALID",
            &[("WP01-a.md", wp!("WP01", "dependencies: [WP07]\n"))],
            "Invalid dependencies for WP01: ['Dependency WP07 not found in graph']",
        ),
        (
            "REQUIREMENT_MAPPING_INCOMPLETE",
            &[
                ("WP01-a.md", wp!("WP01", "")),
                ("WP02-b.md", "---\nwork_package_id: WP02\ntitle: B\n---\n"),
            ],
            "Requirement mapping validation failed",
        ),
        (
            "OWNERSHIP_INVALID",
            &[
                (
                    "WP01-a.md",
                    wp!(
                        "WP01",
                        "execution_mode: code_change\nowned_files: [src/**]\nauthoritative_surface: src/\n"
                    ),
                ),
                (
                    "WP02-b.md",
                    wp!(
                        "WP02",
                        "execution_mode: code_change\nowned_files: [src/a/**]\nauthoritative_surface: src/a/\n"
                    ),
                ),
            ],
            "Ownership validation failed",
        ),
        (
            "OWNED_FILES_NOT_FOUND",
            &[(
                "WP01-a.md",
                wp!(
                    "WP01",
                    "execution_mode: code_change\nowned_files: [src/missing.py]\nauthoritative_surface: src/\n"
                ),
            )],
            "literal-path owned_files entries match zero files",
        ),
        (
            "OWNED_FILE_GLOB_INVALID",
            &[(
                "WP01-a.md",
                wp!(
                    "WP01",
                    "execution_mode: code_change\nowned_files: [/etc/passwd]\nauthoritative_surface: /etc/\n"
                ),
            )],
            "Non-relative patterns are unsupported",
        ),
        (
            "INVALID_WP_OWNED_FILES_KITTY_SPECS",
            &[(
                "WP01-a.md",
                wp!(
                    "WP01",
                    "execution_mode: code_change\nowned_files: [kitty-specs/x.md]\nauthoritative_surface: kitty-specs/\n"
                ),
            )],
            "WP owned_files cannot include paths under kitty-specs/",
        ),
    ];
    for (n, (code, files, message)) in cases.into_iter().enumerate() {
        let test = TestRepo::new()?;
        let mission = test
            .create("bad-plan", Some(MissionTopology::Lanes), 10 + n)?
            .mission_slug;
        test.write(
            &format!("kitty-specs/{mission}/spec.md"),
            "## Requirements\n\n- FR-001: one\n",
        )?;
        for (name, text) in files {
            write_wp(&test, &mission, name, text)?;
        }
        let repo = test.repo()?;
        let before = test.snapshot()?;
        for validate_only in [true, false] {
            let protected = protected();
            let error = finalize_tasks(
                &repo,
                &mission,
                &FinalizeOptions {
                    validate_only,
                    protected_branches: &protected,
                },
                &SystemClock,
            )
            .expect_err("a bad plan");
            assert_eq!(error.code(), code, "{error}");
            assert!(error.to_string().contains(message), "{code}: {error}");
        }
        assert_eq!(test.snapshot()?, before, "{code}: something was written");
    }
    let test = TestRepo::new()?;
    let mission = test
        .create("no-spec", Some(MissionTopology::Lanes), 30)?
        .mission_slug;
    write_wp(&test, &mission, "WP01-a.md", wp!("WP01", ""))?;
    std::fs::remove_file(test.path(&format!("kitty-specs/{mission}/spec.md")))?;
    let protected = protected();
    let error = finalize_tasks(
        &test.repo()?,
        &mission,
        &FinalizeOptions {
            validate_only: true,
            protected_branches: &protected,
        },
        &SystemClock,
    )
    .expect_err("no spec.md");
    assert_eq!(error.code(), "SPEC_NOT_FOUND", "{error}");
    Ok(())
}

#[test]
fn finalize_refuses_a_protected_or_absent_planning_branch() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::Lanes, 3)?;
    let repo = test.repo()?;
    let before = test.snapshot()?;
    let protected = ProtectedBranches::from(strings(&["feature/x"]));
    let error = finalize_tasks(
        &repo,
        &mission,
        &FinalizeOptions {
            validate_only: false,
            protected_branches: &protected,
        },
        &SystemClock,
    )
    .expect_err("protected");
    assert_eq!(error.code(), "PROTECTED_BRANCH_REFUSED");
    assert_eq!(test.snapshot()?, before);

    test.git(&["switch", "-q", "-c", "elsewhere"])?;
    let repo = test.repo()?;
    let before = test.snapshot()?;
    let error = finalize(&repo, &mission).expect_err("not checked out");
    assert_eq!(
        error.to_string(),
        format!(
            "Planning artifacts of `{mission}` are committed to `feature/x`, but the primary checkout has `elsewhere` checked out"
        )
    );
    assert_eq!(test.snapshot()?, before);
    Ok(())
}

#[test]
fn ready_work_and_its_gate() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::Lanes, 4)?;
    let repo = test.repo()?;
    finalize(&repo, &mission)?;
    let status = MissionStatus::load(&repo, &mission, &protected())?;
    let readiness = mission_readiness(&status)?;
    let ready: Vec<&str> = readiness.ready.iter().map(|wp| wp.wp_id.as_str()).collect();
    assert_eq!(ready, ["WP01", "WP03"]);
    assert_eq!(readiness.ready[0].lane_id.as_deref(), Some("lane-a"));
    assert_eq!(readiness.waiting.len(), 1);
    assert_eq!(readiness.waiting[0].wp_id, "WP02");
    assert_eq!(readiness.waiting[0].waiting_for[0].lane, Lane::Planned);

    let claim = |wp_id: &str, force: bool| TransitionRequest {
        wp_id: wp_id.to_owned(),
        to_lane: "claimed".to_owned(),
        actor: Some("claude".to_owned()),
        reason: force.then(|| "operator decision".to_owned()),
        force,
        ..TransitionRequest::default()
    };
    let before = test.snapshot()?;
    let error = status
        .transition(&claim("WP02", false), &SystemClock)
        .expect_err("WP01 is not done");
    assert_eq!(error.code(), "DEPENDENCIES_NOT_READY");
    assert_eq!(
        error.to_string(),
        "WP02 waits for WP01 (planned): a work package is claimed only when every dependency is done"
    );
    assert_eq!(test.snapshot()?, before);
    status.transition(&claim("WP02", true), &SystemClock)?;
    status.transition(&claim("WP03", false), &SystemClock)?;
    let ready: Vec<String> = mission_readiness(&status)?
        .ready
        .into_iter()
        .map(|wp| wp.wp_id)
        .collect();
    assert_eq!(ready, ["WP01"]);
    Ok(())
}

#[test]
fn subtasks_are_annotations_and_unlock_review() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::Lanes, 5)?;
    let repo = test.repo()?;
    finalize(&repo, &mission)?;
    let status = MissionStatus::load(&repo, &mission, &protected())?;
    let error = status
        .record_subtasks("WP01", &strings(&["T001"]), Lane::Done, None, &SystemClock)
        .err();
    assert!(error.is_none(), "{error:?}");
    status.start_implementation("WP01", "claude", "worktree:x", &SystemClock)?;
    let review = TransitionRequest {
        wp_id: "WP01".to_owned(),
        to_lane: "for_review".to_owned(),
        actor: Some("claude".to_owned()),
        ..TransitionRequest::default()
    };
    let error = status
        .transition(&review, &SystemClock)
        .expect_err("T002 is not done");
    assert!(
        error.to_string().contains("requires completed subtasks"),
        "{error}"
    );
    // The refusal names what it waits for and the command that records it.
    assert_eq!(error.code(), "SUBTASKS_INCOMPLETE");
    assert!(error.to_string().ends_with("not done: T002"), "{error}");
    assert!(
        error.hint().contains(&format!(
            "missionctl subtask done --mission {mission} WP01 T002"
        )),
        "{}",
        error.hint()
    );

    let outcome = status.record_subtasks(
        "WP01",
        &strings(&["T001", "T002"]),
        Lane::Done,
        Some("claude"),
        &SystemClock,
    )?;
    assert_eq!(outcome.changed, strings(&["T002"]));
    let row = outcome.annotation.expect("written").to_json_line();
    assert!(
        row.contains("\"delta\": {\"subtasks\": {\"T002\": \"done\"}}"),
        "{row}"
    );
    assert!(row.contains("\"kind\": \"annotation\""), "{row}");

    let settled = test.snapshot()?;
    let again = status.record_subtasks(
        "WP01",
        &strings(&["T001", "T002"]),
        Lane::Done,
        Some("claude"),
        &SystemClock,
    )?;
    assert!(again.receipt.is_none());
    assert_eq!(test.snapshot()?, settled);

    let error = status
        .record_subtasks("WP01", &strings(&["T003"]), Lane::Done, None, &SystemClock)
        .expect_err("T003 belongs to WP02");
    assert_eq!(error.code(), "SUBTASK_UNKNOWN");
    status.transition(&review, &SystemClock)?;
    Ok(())
}

#[test]
fn is_committed_looks_at_one_surface() -> TestResult {
    let test = TestRepo::new()?;
    let repo = test.repo()?;
    assert!(is_committed(&repo, &test.path("README.md"))?);
    test.write("new.txt", "x\n")?;
    assert!(!is_committed(&repo, &test.path("new.txt"))?);
    test.git(&["add", "new.txt"])?;
    assert!(
        !is_committed(&repo, &test.path("new.txt"))?,
        "staged is not committed"
    );
    assert!(!is_committed(&repo, std::path::Path::new("/etc/hostname"))?);
    test.git(&["branch", "side"])?;
    test.git(&["worktree", "add", "-q", ".worktrees/side", "side"])?;
    let repo = test.repo()?;
    assert!(is_committed(
        &repo,
        &test.path(".worktrees/side/README.md")
    )?);
    test.write(".worktrees/side/only-here.txt", "x\n")?;
    assert!(!is_committed(
        &repo,
        &test.path(".worktrees/side/only-here.txt")
    )?);
    Ok(())
}

#[test]
fn planning_commits_take_only_primary_artifacts_of_the_mission() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::LanesWithCoord, 1)?;
    let repo = test.repo()?;
    let surface = PlanningSurface::resolve(&repo, &mission)?;
    test.write(&format!("kitty-specs/{mission}/status.json"), "{}\n")?;
    test.write(&format!("kitty-specs/{mission}/notes.txt"), "x\n")?;
    test.write("README.md", "changed\n")?;
    let before = test.snapshot()?;
    let wp = surface.repo_path("tasks/WP01-work-package-wp01.md");
    for (path, code) in [
        (
            surface.repo_path("status.json"),
            "COORDINATION_ARTIFACT_REFUSED",
        ),
        (
            surface.repo_path("tasks/WP01/review-cycle-1.md"),
            "COORDINATION_ARTIFACT_REFUSED",
        ),
        (surface.repo_path("notes.txt"), "PLANNING_ARTIFACT_UNKNOWN"),
        ("README.md".to_owned(), "PLANNING_PATH_OUTSIDE_MISSION"),
        (
            format!("{}-other/spec.md", surface.mission_rel),
            "PLANNING_PATH_OUTSIDE_MISSION",
        ),
    ] {
        // A refused path refuses the whole commit, the planning paths with it.
        let mut transaction = surface.begin(&repo, "test")?;
        let error = surface
            .commit(&mut transaction, &[wp.clone(), path.clone()], "refused", 0)
            .expect_err("refused");
        drop(transaction);
        assert_eq!(error.code(), code, "{path}");
        assert_eq!(test.snapshot()?, before, "{path}: something was written");
    }
    assert_eq!(
        surface.planning_kind(&wp)?,
        missionctl_core::planning::planning_artifact::ArtifactKind::WorkPackageTask
    );
    let mut transaction = surface.begin(&repo, "test")?;
    assert!(
        surface
            .commit(&mut transaction, &[wp], "the work package", 1_000_000_000)?
            .is_some()
    );
    transaction.finish()?;
    Ok(())
}
