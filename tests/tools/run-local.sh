#!/bin/sh
# run-local.sh - `make run`: run leadrouted in the foreground on a config,
# starting a private local redis-server first when the configured one does
# not answer. Ctrl-C stops the daemon (gracefully) and that redis-server.
set -u
conf=${1:-conf/leadrouted.conf}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/build/leadrouted"

# The redis group of the config: host and port (first ones in the group).
redis_block=$(awk '/^[[:space:]]*redis[[:space:]]*=/{on=1} on{print} on&&/};/{exit}' "$conf")
host=$(printf '%s\n' "$redis_block" | sed -n 's/.*host *= *"\([^"]*\)".*/\1/p' | head -n 1)
port=$(printf '%s\n' "$redis_block" | sed -n 's/.*port *= *\([0-9][0-9]*\).*/\1/p' | head -n 1)
sock=$(printf '%s\n' "$redis_block" | sed -n 's/.*unix_socket *= *"\([^"]*\)".*/\1/p' | head -n 1)
host=${host:-127.0.0.1}
port=${port:-6379}

"$bin" -n -c "$conf" || exit 1

ping() {
	if [ -n "$sock" ]; then
		redis-cli -s "$sock" ping 2>/dev/null | grep -q PONG
	else
		redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
	fi
}

redis_pid=""
cleanup() {
	if [ -n "$redis_pid" ]; then
		echo "run: stopping the local redis-server (pid $redis_pid)"
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	fi
}
trap cleanup EXIT

if ping; then
	echo "run: using the redis-server at ${sock:-$host:$port}"
else
	case "$host" in
	127.*|localhost|::1) ;;
	*) echo "run: redis at $host:$port does not answer; not starting one for a remote host" >&2
	   exit 1 ;;
	esac
	dir="$top/build/redis"
	mkdir -p "$dir"
	echo "run: no redis-server at ${sock:-$host:$port}; starting one in $dir (AOF on, hash-max-listpack-value 1024: README \"Performance\")"
	if [ -n "$sock" ]; then
		redis-server --port 0 --unixsocket "$sock" --dir "$dir" \
		    --appendonly yes --save "" --daemonize no \
		    --hash-max-listpack-value 1024 \
		    --logfile "$dir/redis.log" &
	else
		redis-server --port "$port" --bind "$host" --dir "$dir" \
		    --appendonly yes --save "" --daemonize no \
		    --hash-max-listpack-value 1024 \
		    --logfile "$dir/redis.log" &
	fi
	redis_pid=$!
	i=0
	until ping; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			echo "run: redis-server did not start; see $dir/redis.log" >&2
			exit 1
		fi
		sleep 0.1
	done
fi

echo "run: leadrouted -c $conf (Ctrl-C to stop); push a lead with:"
echo "  redis-cli -p $port LPUSH lr:incoming '{\"id\":\"demo-1\",\"email\":\"ann@example.com\",\"title\":\"VP Sales\",\"employees\":250,\"activity\":{\"demo_request\":true}}'"
"$bin" -c "$conf" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null' INT TERM
wait "$daemon"
rc=$?
# A signal interrupts the first wait; wait for the daemon's own exit.
if kill -0 "$daemon" 2>/dev/null; then
	wait "$daemon"
	rc=$?
fi
exit "$rc"
