#!/usr/bin/env bash
# Runs the TypeScript client's test against a real safethird server: builds
# the binary, starts `safethird serve` on free loopback ports, waits until
# its health service says SERVING, runs `npm test`, and stops the server.
# Needs Go and Node.js 20 or later with npm.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

cleanup() {
	stop_safethird
	rm -rf "$work"
}
trap cleanup EXIT

echo "run-test: building safethird"
(cd "$root" && go build -o "$work/safethird" ./cmd/safethird)

echo "run-test: installing the npm packages (npm ci)"
(cd "$here" && npm ci --no-audit --no-fund)

start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at $addr; running npm test"
(cd "$here" && SAFETHIRD_ADDR="$addr" npm test)
