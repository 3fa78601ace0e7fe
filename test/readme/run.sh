#!/usr/bin/env bash
# Runs the README's "From `git clone` to a memo on Mexico" and then its
# "Quick start" as written, in a fresh clone of this repository and in a
# network namespace of its own, where the default ports (50051, 8080) are
# free whatever else runs on the machine, and checks what they print. Two
# departures, both forced: the clone comes from this repository rather
# than GitHub (the namespace has no network), and the quick start's
# server, which a reader leaves running in one terminal, runs in the
# background until its /readyz answers. `make test`, the quick start's
# last command, is CI's own first step and is not run again here.
# Needs root (unshare -n), iproute2, git, curl, python3, and the Go modules
# in the module cache (`go mod download`).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Each section's code blocks, one file per block, one command per line
# (a line ending in a backslash joined to the next).
python3 - "$root/README.md" "$work" <<'PY'
import re, sys
readme, out = sys.argv[1], sys.argv[2]
text = open(readme).read()
for name, heading in (("quick", "## Quick start"), ("memo", "## From `git clone` to a memo on Mexico")):
    section = text.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    blocks, current = [], []
    for line in section.splitlines():
        if line.startswith("    "):
            current.append(line[4:])
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    for i, block in enumerate(blocks):
        with open(f"{out}/{name}{i}.sh", "w") as f:
            f.write(re.sub(r"\\\n", "", "\n".join(block)) + "\n")
PY

expect_block() {
	local file="$1" want="$2"
	if [[ "$(cat "$file")" != "$want" ]]; then
		echo "readme-test: README block $(basename "$file") is now:" >&2
		cat "$file" >&2
		echo "readme-test: this test runs it knowing it as: $want; update one or the other" >&2
		exit 1
	fi
}
expect_block "$work/quick0.sh" "go run ./cmd/safethird serve"
expect_block "$work/quick2.sh" "make test"
clone_line="git clone https://github.com/safethird/safethird.git && cd safethird"
if [[ "$(head -1 "$work/memo0.sh")" != "$clone_line" ]]; then
	echo "readme-test: the memo section no longer starts with: $clone_line" >&2
	exit 1
fi
# The clone from here instead of GitHub; the rest as written, then the
# README's `kill %1`.
{
	echo "git clone -q '$root' safethird && cd safethird"
	tail -n +2 "$work/memo0.sh"
	echo "kill %1"
	echo "wait"
} >"$work/memo.sh"

cat >"$work/inside.sh" <<'INSIDE'
set -euo pipefail
work="$1" root="$2"
ip link set lo up

# The memo section first: it makes the fresh clone, in which the quick
# start then runs, from the repository's root as it says (one clone, so
# Go compiles the module once).
echo "readme-test: From git clone to a memo on Mexico, in an empty directory"
mkdir "$work/run" && cd "$work/run"
bash -x "$work/memo.sh"
head -1 safethird/mexico-memo.md
[[ "$(head -1 safethird/mexico-memo.md)" == "# Safe third country assessment: Mexico (MX)" ]] || { echo "readme-test: no memo"; exit 1; }

echo "readme-test: Quick start, in that clone"
cd "$work/run/safethird"
# A process group of its own, so that stopping it stops go run's child too.
setsid bash "$work/quick0.sh" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
	curl -sf localhost:8080/readyz >/dev/null && break
	kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "readme-test: the server exited"; exit 1; }
	sleep 0.5
done
# Each command on its own, each checked: curl's answer, then the CLI's report.
mapfile -t commands <"$work/quick1.sh"
[[ ${#commands[@]} == 2 ]] || { echo "readme-test: the quick start's second block has ${#commands[@]} commands, not curl and the CLI"; exit 1; }
rest="$(bash -c "${commands[0]}")"
echo "    \$ ${commands[0]}"; head -c 300 <<<"$rest" | sed 's/^/    /'; echo
grep -qE '"determination": ?"DETERMINATION_DOES_NOT_QUALIFY"' <<<"$rest" || { echo "readme-test: no REST answer"; exit 1; }
report="$(bash -c "${commands[1]}")"
echo "    \$ ${commands[1]}"; head -3 <<<"$report" | sed 's/^/    /'
[[ "$(head -1 <<<"$report")" == "Mexico (MX)" ]] || { echo "readme-test: no CLI report on Mexico"; exit 1; }
kill -TERM -- "-$server"
wait "$server" || true
INSIDE
unshare -n bash "$work/inside.sh" "$work" "$root"
echo "2 passed, 0 failed"
