#!/usr/bin/env bash
# Runs the TypeScript client's test against a real safethird server: builds
# the binary, starts `safethird serve` on a free loopback port, waits until
# its health service says SERVING, runs `npm test`, and stops the server.
# Needs Go and Node.js 20 or later with npm.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pid=""

cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "run-test: building safethird"
(cd "$root" && go build -o "$work/safethird" ./cmd/safethird)

echo "run-test: installing the npm packages (npm ci)"
(cd "$here" && npm ci --no-audit --no-fund)

# serve reads SAFETHIRD_* variables too; a developer's own must not leak in.
for v in $(env | grep -o '^SAFETHIRD_[A-Z_]*' || true); do unset "$v"; done

# Port 0: the server picks a free port and logs it in its "serving" line.
"$work/safethird" serve --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 2>"$work/serve.log" &
pid=$!

addr=""
for _ in $(seq 1 300); do
	addr="$(grep '"msg":"serving"' "$work/serve.log" | grep -o '"addr":"[^"]*"' | cut -d'"' -f4 || true)"
	[[ -n "$addr" ]] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "run-test: safethird serve exited:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ -z "$addr" ]]; then
	echo "run-test: safethird serve did not start in 30s:" >&2
	cat "$work/serve.log" >&2
	exit 1
fi

healthy=""
for _ in $(seq 1 100); do
	if "$work/safethird" health --addr "$addr" --timeout 1s >/dev/null 2>&1; then
		healthy=yes
		break
	fi
	sleep 0.1
done
if [[ -z "$healthy" ]]; then
	echo "run-test: safethird at $addr is not SERVING:" >&2
	cat "$work/serve.log" >&2
	exit 1
fi

echo "run-test: server SERVING at $addr; running npm test"
(cd "$here" && SAFETHIRD_ADDR="$addr" npm test)
