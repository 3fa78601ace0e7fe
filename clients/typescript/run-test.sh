#!/usr/bin/env bash
# Runs the TypeScript client's test against a real safethird server: copies
# the package (package.json, package-lock.json, tsconfig.json, src, test)
# into a clean directory, installs its npm packages there (npm ci), starts
# `safethird serve` on free loopback ports, and runs `npm test` against
# both doors: gRPC on the gRPC port, the Connect protocol on the HTTP door.
# Needs Go and Node.js 20 or later with npm.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

build_safethird
echo "run-test: installing the npm packages in a clean directory (npm ci)"
client="$(clean_client_dir "$here/package.json" "$here/package-lock.json" "$here/tsconfig.json" "$here/src" "$here/test")"
(cd "$client" && npm ci --no-audit --no-fund)

start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at $addr (HTTP $http_addr); running npm test"
(cd "$client" && SAFETHIRD_ADDR="$addr" SAFETHIRD_HTTP_ADDR="$http_addr" npm test)
