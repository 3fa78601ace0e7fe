#!/usr/bin/env bash
# Runs the README's Python recipe against a real safethird server: generates
# the Python code with buf.gen.python.yaml (Debian's protoc and gRPC plugin,
# no remote plugin), starts `safethird serve` on free loopback ports, and
# runs assess_grpc.py (gRPC, with grpcio) and assess_rest.py (the REST door,
# with nothing but urllib) with Debian's python3, checking what they print.
# The README shows both files; this script fails when it no longer does.
# Needs Go and Debian's python3-grpcio, python3-protobuf, protobuf-compiler
# and protobuf-compiler-grpc (.ci/run installs them).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
# Debian's python3, where apt installs grpcio; a pyenv or venv python3 on
# PATH would not see it.
python="${PYTHON:-/usr/bin/python3}"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

cleanup() {
	stop_safethird
	rm -rf "$work"
}
trap cleanup EXIT

for tool in protoc grpc_python_plugin "$python"; do
	if ! command -v "$tool" >/dev/null; then
		echo "run-test: $tool not found: apt-get install protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf" >&2
		exit 1
	fi
done

echo "run-test: checking that README.md shows the examples as they are"
"$python" - "$root/README.md" "$here/assess_grpc.py" "$here/assess_rest.py" <<'PY'
import sys
readme = open(sys.argv[1]).read()
for path in sys.argv[2:]:
    block = "".join("    " + line if line.strip() else line for line in open(path).read().splitlines(True))
    if block not in readme:
        sys.exit(f"README.md does not show {path} as it is; paste it in, indented by four spaces")
PY

echo "run-test: building safethird and generating the Python code"
(cd "$root" && go build -o "$work/safethird" ./cmd/safethird)
(cd "$root" && go tool buf generate --template buf.gen.python.yaml -o "$work")

start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at $addr (HTTP $http_addr); running the examples"

expect() {
	local name="$1" out="$2"
	shift 2
	for want in "$@"; do
		if ! grep -qxF -- "$want" <<<"$out"; then
			echo "run-test: $name printed:" >&2
			echo "$out" >&2
			echo "run-test: want the line: $want" >&2
			exit 1
		fi
	done
	echo "run-test: $name ok"
}

bad="invalid request: country_code: must be an ISO 3166-1 alpha-2 code: two letters, such as MX"
out="$(cd "$here" && SAFETHIRD_ADDR="$addr" PYTHONPATH="$work/gen/python" "$python" assess_grpc.py)"
expect assess_grpc.py "$out" "Mexico DETERMINATION_DOES_NOT_QUALIFY" "INVALID_ARGUMENT $bad"
out="$(cd "$here" && SAFETHIRD_HTTP_ADDR="$http_addr" "$python" assess_rest.py)"
expect assess_rest.py "$out" "Mexico DETERMINATION_DOES_NOT_QUALIFY" "# Safe third country assessment: Mexico (MX)" \
	"400 ERROR_REASON_INVALID_ARGUMENT $bad"
echo "2 passed, 0 failed"
