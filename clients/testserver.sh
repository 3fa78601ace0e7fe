# Sourced by the client tests (clients/*/run-test.sh):
# build_safethird makes a scratch directory $work, removed (with the server
# stopped) when the script exits, and builds $work/safethird from the
# repository at $root; clean_client_dir PATH... copies the given files and
# directories into $work/client, a directory of their own with nothing else
# in it, as a user who starts from the recipe alone has, and prints it;
# start_safethird BIN LOG starts `BIN serve` on free loopback ports, without
# the caller's own SAFETHIRD_ variables, waits until its health service says
# SERVING, and sets server_pid, addr (gRPC) and http_addr (the HTTP door);
# stop_safethird stops it. The server's log goes to LOG. expect_lines NAME
# OUTPUT WANT... fails unless OUTPUT, what NAME printed, has each WANT as a
# whole line.

server_pid=""
work=""

build_safethird() {
	work="$(mktemp -d)"
	trap 'stop_safethird; rm -rf "$work"' EXIT
	echo "run-test: building safethird"
	(cd "$root" && go build -o "$work/safethird" ./cmd/safethird)
}

clean_client_dir() {
	mkdir -p "$work/client"
	cp -R "$@" "$work/client/"
	echo "$work/client"
}

start_safethird() {
	local bin="$1" log="$2" line=""
	# serve reads SAFETHIRD_* variables too; a developer's own must not leak in.
	(
		for v in $(env | grep -o '^SAFETHIRD_[A-Z_]*' || true); do unset "$v"; done
		# Port 0: the server picks free ports and logs them in its "serving" line.
		exec "$bin" serve --addr 127.0.0.1:0 --http-addr 127.0.0.1:0
	) 2>"$log" &
	server_pid=$!
	for _ in $(seq 1 300); do
		line="$(grep '"msg":"serving"' "$log" || true)"
		[[ -n "$line" ]] && break
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "safethird serve exited:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	if [[ -z "$line" ]]; then
		echo "safethird serve did not start in 30s:" >&2
		cat "$log" >&2
		return 1
	fi
	addr="$(grep -o '"addr":"[^"]*"' <<<"$line" | cut -d'"' -f4)"
	http_addr="$(grep -o '"http_addr":"[^"]*"' <<<"$line" | cut -d'"' -f4)"
	for _ in $(seq 1 100); do
		if "$bin" health --addr "$addr" --timeout 1s >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "safethird at $addr is not SERVING:" >&2
	cat "$log" >&2
	return 1
}

stop_safethird() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid"
		wait "$server_pid" || true
	fi
	server_pid=""
}

expect_lines() {
	local name="$1" out="$2"
	shift 2
	for want in "$@"; do
		if ! grep -qxF -- "$want" <<<"$out"; then
			echo "run-test: $name printed:" >&2
			echo "$out" >&2
			echo "run-test: want the line: $want" >&2
			return 1
		fi
	done
	echo "run-test: $name ok"
}
