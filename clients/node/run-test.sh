#!/usr/bin/env bash
# Runs the README's Node.js recipe against a real safethird server: copies
# this directory's package.json, package-lock.json and sources into a clean
# directory, installs @grpc/grpc-js and @grpc/proto-loader there (npm ci),
# starts `safethird serve` on free loopback ports and runs node --test with
# the repository's proto/ loaded at run time. A proto that protobufjs
# cannot parse fails it. Needs Go, Node.js 20 or later with npm, python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

echo "run-test: checking that README.md shows safethird.js as it is"
python3 "$root/clients/readme-shows.py" "$root/README.md" "$here/safethird.js"

build_safethird
echo "run-test: installing the npm packages in a clean directory (npm ci)"
client="$(clean_client_dir "$here/package.json" "$here/package-lock.json" "$here/safethird.js" "$here/assess.test.js")"
(cd "$client" && npm ci --no-audit --no-fund)

start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at $addr; running npm test"
(cd "$client" && SAFETHIRD_ADDR="$addr" SAFETHIRD_PROTO_DIR="$root/proto" npm test)
