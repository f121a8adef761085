#!/bin/sh
# Builds /tmp/bench200: one `lanes` mission with 200 work packages in Spec Kitty's front-matter
# shape (about 1.5 KB each, 0-2 dependencies on the ten before), each mapped to one of the 200
# functional requirements of spec.md and creating its test file, finalized, 80 of them done.
set -e
M=${M:-missionctl}
rm -rf /tmp/bench200 && mkdir /tmp/bench200 && cd /tmp/bench200
git init -q -b main && git config user.name p && git config user.email p@p
git commit -q --allow-empty -m init && git switch -qc feature/perf
$M mission create bench --topology lanes --json >/dev/null
S=$(ls kitty-specs)
python3 - "$S" <<'PY'
import random, sys
random.seed(11)
slug = sys.argv[1]
with open(f"kitty-specs/{slug}/spec.md", "w") as spec:
    spec.write("# Export pipeline\n\n## Requirements\n\n| ID | Title | Description |\n|----|----|----|\n")
    for i in range(1, 201):
        spec.write(f"| FR-{i:03d} | Module {i} | The pipeline exports through module {i} |\n")
for i in range(1, 201):
    wp = f"WP{i:03d}"
    deps = sorted({f"WP{j:03d}" for j in random.sample(range(max(1, i - 10), i), min(2, i - 1))}) if i > 1 and random.random() < 0.8 else []
    subs = [f"T{(i - 1) * 3 + k + 1:04d}" for k in range(3)]
    owned = [f"src/module_{i:03d}/**", f"tests/test_module_{i:03d}.py"]
    lines = ["---", f"work_package_id: {wp}", f"title: Implement module {i} of the export pipeline",
             "dependencies:" + ("" if deps else " []")] + [f"- {d}" for d in deps]
    lines += ["requirement_refs:", f"- FR-{i:03d}", "planning_base_branch: feature/perf",
              "merge_target_branch: feature/perf",
              "branch_strategy: Planning artifacts for this mission were generated on feature/perf. During /spec-kitty.implement this WP may branch from a dependency-specific base, but completed changes must merge back into feature/perf unless the human explicitly redirects the landing branch.",
              "subtasks:"] + [f"- {s}" for s in subs]
    lines += ["phase: Phase 1 - Build", "history:", "- at: '2026-11-21T22:30:00Z'", "  actor: system",
              "  action: Prompt generated via /spec-kitty.tasks", "agent_profile: implementer-ivan",
              f"authoritative_surface: src/module_{i:03d}/", "create_intent:", f"- tests/test_module_{i:03d}.py", "execution_mode: code_change",
              "owned_files:"] + [f"- {o}" for o in owned]
    lines += ["role: implementer", "tags: []", "task_type: implement", "tracker_refs: []", "---", "",
              f"# Work Package Prompt: {wp} – Implement module {i}", "", "## Objectives & Success Criteria", "",
              "Implement the module with atomic writes and full error handling. " * 6, "",
              "## Subtasks & Detailed Guidance", ""] + [f"- {s}: do part {k}" for k, s in enumerate(subs)]
    lines += ["", "## Activity Log", "", "- 2026-11-21T22:30:00Z – system – Prompt generated", ""]
    with open(f"kitty-specs/{slug}/tasks/{wp}-implement-module-{i}.md", "w") as out:
        out.write("\n".join(lines))
PY
$M tasks finalize "$S" --json >/dev/null
for i in $(seq 1 80); do
  $M move "$(printf 'WP%03d' "$i")" --to done --mission "$S" --actor op --reason "bench fixture" --force >/dev/null
done
git pack-refs --all
echo "$S"
