#!/usr/bin/env bash
# Checks the OpenAPI document safethird serves, as a user of it would: in a
# clean directory with this package (package.json, package-lock.json,
# tsconfig.json, the linters' configs, test/), installs the pinned npm
# packages (npm ci), starts `safethird serve` on free loopback ports,
# fetches its GET /openapi.yaml, lints it with Redocly (recommended) and
# Spectral (spectral:oas), generates TypeScript types from it with
# openapi-typescript, and runs test/assess.test.ts, which calls the REST
# paths with openapi-fetch. Needs Go and Node.js 20 or later with npm.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

# Redocly CLI (and @scarf/scarf, which it pulls in) report usage, and
# Redocly looks for updates, by default: neither is wanted in a test.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true SCARF_ANALYTICS=false

build_safethird
echo "run-test: installing the npm packages in a clean directory (npm ci)"
client="$(clean_client_dir "$here/package.json" "$here/package-lock.json" "$here/tsconfig.json" \
	"$here/redocly.yaml" "$here/.redocly.lint-ignore.yaml" "$here/.spectral.yaml" "$here/test")"
(cd "$client" && npm ci --no-audit --no-fund)

start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at HTTP $http_addr; fetching its /openapi.yaml"
curl -sSf -o "$client/openapi.yaml" "http://$http_addr/openapi.yaml"
echo "run-test: linting the served document (Redocly recommended, Spectral spectral:oas)"
(cd "$client" && npm run --silent lint)
echo "run-test: generating the client's types from it, and calling the REST paths"
(cd "$client" && npm run --silent generate && SAFETHIRD_HTTP_ADDR="$http_addr" npm test)
