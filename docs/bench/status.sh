#!/usr/bin/env bash
# Whole-process benchmarks of the status commands (issue 4), recorded in docs/performance.md:
#
#   1. `board --json` on a mission with 10,000 events, with a warm snapshot cache and a cold one;
#   2. `move` including its git commit, on a small `single_branch` mission, a small `coord`
#      mission and the 10,000-event mission;
#   3. the throughput of 8 processes moving work packages of one mission at once.
#
# Needs git and hyperfine (`apt-get install -y hyperfine`). Usage, from the repository root:
#
#   cargo build --release -p missionctl
#   docs/bench/status.sh [path/to/missionctl]
set -euo pipefail

missionctl="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/missionctl}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null
unset MISSIONCTL_PROTECTED_BRANCHES

# Creates a repository at $1 on `feature/bench` with one mission of topology $2; prints its
# directory name.
new_repo() {
    local dir="$1" topology="$2"
    git init --quiet --initial-branch main "$dir"
    git -C "$dir" config user.name bench
    git -C "$dir" config user.email bench@example.com
    printf '.worktrees/\n' >"$dir/.gitignore"
    git -C "$dir" add .gitignore
    git -C "$dir" commit --quiet -m init
    git -C "$dir" switch --quiet -c feature/bench
    (cd "$dir" && "$missionctl" mission create bench --topology "$topology" >/dev/null)
    ls "$dir/kitty-specs"
}

echo "== missionctl: $missionctl"
"$missionctl" --version
uptime

# 1. A mission with 10,000 events (40 work packages, 250 transitions each, Spec Kitty's row
#    shape), committed with its status.json.
big="$work/big"
slug="$(new_repo "$big" single_branch)"
log="$big/kitty-specs/$slug/status.events.jsonl"
mission_id="$(grep -o '"mission_id": "[^"]*"' "$big/kitty-specs/$slug/meta.json" | cut -d'"' -f4)"
lanes=(planned claimed in_progress for_review in_review approved done)
{
    for ((i = 0; i < 10000; i++)); do
        wp=$(printf 'WP%02d' $((i % 40 + 1)))
        k=$((i / 40))
        if ((k == 0)); then from=genesis; else from=${lanes[$(((k - 1) % 7))]}; fi
        to=${lanes[$((k % 7))]}
        printf '{"actor": "claude", "at": "2026-07-25T%02d:%02d:%02d.%06d+00:00", "event_id": "01KYCRQ6AMWZEX5FRJ%08d", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "%s", "mission_id": "%s", "mission_slug": "%s", "policy_metadata": null, "reason": "bench", "review_ref": null, "to_lane": "%s", "wp_id": "%s"}\n' \
            $((i / 3600 % 24)) $((i / 60 % 60)) $((i % 60)) "$i" "$i" "$from" "$mission_id" "$slug" "$to" "$wp"
    done
} >"$log"
(cd "$big" && "$missionctl" status materialize --mission "$slug" >/dev/null)
echo "== 10,000-event log: $(wc -c <"$log") bytes"

cd "$big"
hyperfine -N --warmup 20 --runs 200 \
    --command-name "board --json, 10,000 events (warm cache)" \
    "$missionctl board --json --mission $slug"
hyperfine -N --warmup 3 --runs 50 \
    --prepare "rm -rf $big/.git/missionctl/status-cache" \
    --command-name "board --json, 10,000 events (cold: parse and reduce)" \
    "$missionctl board --json --mission $slug"
hyperfine -N --warmup 3 --runs 50 \
    --command-name "move with its commit, 10,000 events" \
    "$missionctl move WP01 --to for_review --force --actor bench --reason bench --mission $slug"

# 2. `move` with its commit on fresh small missions (the log grows by one row per run).
for topology in single_branch coord; do
    dir="$work/small-$topology"
    slug="$(new_repo "$dir" "$topology")"
    cd "$dir"
    "$missionctl" move WP01 --to planned --actor bench --mission "$slug" >/dev/null
    hyperfine -N --warmup 5 --runs 100 \
        --command-name "move with its commit, $topology" \
        "$missionctl move WP01 --to planned --force --actor bench --reason bench --mission $slug"
    "$missionctl" status validate --mission "$slug" >/dev/null
done

# 3. Throughput: 8 processes × 25 moves on one mission at once, against 1 process × 200.
dir="$work/contention"
slug="$(new_repo "$dir" single_branch)"
cd "$dir"
writer() {
    for ((n = 0; n < 25; n++)); do
        "$missionctl" move "$1" --to planned --force --actor "$1" --reason bench --mission "$slug" >/dev/null
    done
}
for round in 1 2 3; do
    start=$(date +%s%N)
    for w in 1 2 3 4 5 6 7 8; do writer "WP0$w" & done
    wait
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    echo "== 8 writers x 25 moves, round $round: ${ms} ms, $((200 * 1000 / ms)) events/s"
    start=$(date +%s%N)
    for ((n = 0; n < 200; n++)); do
        "$missionctl" move WP09 --to planned --force --actor solo --reason bench --mission "$slug" >/dev/null
    done
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    echo "== 1 writer x 200 moves, round $round: ${ms} ms, $((200 * 1000 / ms)) events/s"
done
events=$(grep -c '"to_lane"' "kitty-specs/$slug/status.events.jsonl")
commits=$(git rev-list --count feature/bench)
echo "== events in the log: $events; commits on feature/bench: $commits"
"$missionctl" status validate --mission "$slug"
git status --porcelain
