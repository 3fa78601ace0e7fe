#!/usr/bin/env bash
# Runs the README's Python recipe against a real safethird server, in a
# clean directory holding only a copy of proto/ and the recipe's files:
# generates the Python code with Debian's protoc and gRPC plugin as
# generate.sh (shown in the README) says, starts `safethird serve` on free
# loopback ports, and runs assess_grpc.py (gRPC, with grpcio) and
# assess_rest.py (the REST door, with nothing but urllib) with Debian's
# python3, checking what they print. The README shows all three files; this
# script fails when it no longer does. Needs Go and Debian's python3-grpcio,
# python3-protobuf, protobuf-compiler and protobuf-compiler-grpc (.ci/run
# installs them).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Debian's python3, where apt installs grpcio; a pyenv or venv python3 on
# PATH would not see it.
python="${PYTHON:-/usr/bin/python3}"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

for tool in protoc grpc_python_plugin "$python"; do
	if ! command -v "$tool" >/dev/null; then
		echo "run-test: $tool not found: apt-get install protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf" >&2
		exit 1
	fi
done

echo "run-test: checking that README.md shows the recipe as it is"
"$python" "$root/clients/readme-shows.py" "$root/README.md" "$here/generate.sh" "$here/assess_grpc.py" "$here/assess_rest.py"

build_safethird
client="$(clean_client_dir "$root/proto" "$here/generate.sh" "$here/assess_grpc.py" "$here/assess_rest.py")"
echo "run-test: generating the Python code with $(protoc --version)"
(cd "$client" && bash generate.sh)

start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at $addr (HTTP $http_addr); running the examples"

bad="invalid request: country_code: must be an ISO 3166-1 alpha-2 code: two letters, such as MX"
out="$(cd "$client" && SAFETHIRD_ADDR="$addr" PYTHONPATH=gen/python "$python" assess_grpc.py)"
expect_lines assess_grpc.py "$out" "Mexico DETERMINATION_DOES_NOT_QUALIFY" "APPLICANT_OUTCOME_NEEDS_FACTS Guatemala" \
	"INVALID_ARGUMENT $bad"
out="$(cd "$client" && SAFETHIRD_HTTP_ADDR="$http_addr" "$python" assess_rest.py)"
expect_lines assess_rest.py "$out" "Mexico DETERMINATION_DOES_NOT_QUALIFY" "# Safe third country assessment: Mexico (MX)" \
	"APPLICANT_OUTCOME_NEEDS_FACTS Guatemala" "400 ERROR_REASON_INVALID_ARGUMENT $bad"
echo "2 passed, 0 failed"
