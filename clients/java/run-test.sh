#!/usr/bin/env bash
# Runs the README's Java recipe against a real safethird server, in a clean
# directory holding only a copy of proto/ and the recipe's files: assess.sh
# generates the Java code with Debian's protoc and gRPC Java plugin,
# compiles it with AssessExample.java against Debian's gRPC Java libraries
# and runs it against `safethird serve` on free loopback ports; this script
# checks what it prints. The README shows both files; this script fails
# when it no longer does. Needs Go, python3 and Debian's
# openjdk-17-jdk-headless, protobuf-compiler, protobuf-compiler-grpc-java-plugin,
# libgrpc-java, libprotobuf-java, libguava-java, libnetty-java,
# libperfmark-java and libgeronimo-annotation-1.3-spec-java (.ci/run
# installs them).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../testserver.sh
source "$root/clients/testserver.sh"

for tool in protoc grpc_java_plugin javac java; do
	if ! command -v "$tool" >/dev/null; then
		echo "run-test: $tool not found: see the packages this script's comment names" >&2
		exit 1
	fi
done

echo "run-test: checking that README.md shows the recipe as it is"
python3 "$root/clients/readme-shows.py" "$root/README.md" "$here/assess.sh" "$here/AssessExample.java"

build_safethird
client="$(clean_client_dir "$root/proto" "$here/assess.sh" "$here/AssessExample.java")"
start_safethird "$work/safethird" "$work/serve.log"
echo "run-test: server SERVING at $addr; generating, compiling and running AssessExample"
out="$(cd "$client" && SAFETHIRD_ADDR="$addr" bash assess.sh)"
expect_lines AssessExample "$out" "Mexico DETERMINATION_DOES_NOT_QUALIFY" "APPLICANT_OUTCOME_NEEDS_FACTS Guatemala" \
	"INVALID_ARGUMENT invalid request: country_code: must be an ISO 3166-1 alpha-2 code: two letters, such as MX"
echo "1 passed, 0 failed"
