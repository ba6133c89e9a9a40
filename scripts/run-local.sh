#!/usr/bin/env bash
# run-local.sh -- `make run`: the whole dadns stack on loopback, in the foreground.
#
# Starts redis-server, named, dadns-ingest, dadns-writer-bind and dadns-reconciler with their
# state in one directory (DADNS_STATE_DIR, default <repo>/run), prints what to type into
# DirectAdmin and how to query named, and stops them all on Ctrl-C. Config and process handling: tests/e2e/lib.sh.
#
# Environment: DADNS_STATE_DIR, DADNS_REDIS_PORT (16379), DADNS_DNS_PORT (5353),
# DADNS_RNDC_PORT (9953), DADNS_APP_LISTEN_PORT (2222), DADNS_APP_AUTH_USERNAME (dadns),
# DADNS_APP_AUTH_PASSWORD (default: generated once, kept in <state>/password),
# DADNS_BIN_DIR (build directory, default <repo>/build). Other DADNS_APP_*, DADNS_LOG_*,
# DADNS_REDIS_*, DADNS_WRITER_* and DADNS_DNS_BACKENDS_* variables reach the services.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DADNS_SRC_DIR="$ROOT"
: "${DADNS_BIN_DIR:=$ROOT/build}"
export DADNS_BIN_DIR
STATE="${DADNS_STATE_DIR:-$ROOT/run}"

# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

REC_BIN="$DADNS_BIN_DIR/services/reconciler/dadns-reconciler"
for b in "$INGEST_BIN" "$WRITER_BIN" "$REC_BIN"; do
    [ -x "$b" ] || die "missing $b: run 'make build' first (or set DADNS_BIN_DIR)"
done
for c in redis-server redis-cli named rndc rndc-confgen dig curl; do
    command -v "$c" >/dev/null || die "$c not found: run 'make deps'"
done

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
STACK_USE_ENV=1
STACK_SPOOL=1 # ingest spools pushes in $STATE/spool while Redis is down
stack_init "$STATE"
# admin listeners (/metrics, /healthz, /readyz): ingest 9400, writer-bind 9401 (writer-mysql
# 9402 and up, reconciler 9410 when started with lib.sh's helpers)
stack_metrics_port ingest
stack_metrics_port writer
stack_metrics_port reconciler

for p in "$REDIS_PORT" "$DNS_PORT" "$RNDC_PORT" "$INGEST_PORT" "${STACK_METRICS_PORTS[ingest]}" \
    "${STACK_METRICS_PORTS[writer]}" "${STACK_METRICS_PORTS[reconciler]}"; do
    if stack_port_in_use "$p"; then
        die "port $p is already in use (another 'make run'? override DADNS_*_PORT)"
    fi
done

# Stop the services whatever happens to the terminal: the output may be gone (a closed
# pipe or terminal), so write errors are ignored here.
shutdown() {
    local rc=$?
    trap - INT TERM HUP EXIT
    trap '' PIPE
    set +e
    {
        echo
        echo "stopping dadns (reconciler, ingest, writer-bind, named, redis-server)..."
    } 2>/dev/null
    stack_stop_all 2>/dev/null
    echo "stopped; state kept in $STATE" 2>/dev/null
    exit "$rc"
}
trap shutdown EXIT
trap 'exit 0' INT TERM
trap 'exit 129' HUP

echo "starting redis-server on 127.0.0.1:$REDIS_PORT"
stack_start_redis
echo "starting named on 127.0.0.1:$DNS_PORT (rndc on $RNDC_PORT)"
stack_start_named
echo "starting dadns-writer-bind"
stack_start_writer
echo "starting dadns-ingest on ${DADNS_APP_LISTEN_ADDR:-127.0.0.1}:$INGEST_PORT"
stack_start_ingest
# The reconciler compares what named holds with the store (and DirectAdmin's zone lists when
# servers are configured, e.g. DADNS_DIRECTADMIN_SERVERS_DA1_HOST/_USER/_PASSWORD); first pass
# after reconciler.initial_delay_s (30 s), then every reconciler.interval_s (900 s).
echo "starting dadns-reconciler"
mapfile -t rec_filter < <(stack_env_filter)
stack_spawn reconciler env "${rec_filter[@]}" \
    DADNS_METRICS_PORT="${STACK_METRICS_PORTS[reconciler]}" "$REC_BIN" -c "$DADNS_CONF"

da_host="127.0.0.1"
if [ "${DADNS_APP_LISTEN_ADDR:-127.0.0.1}" != 127.0.0.1 ]; then
    da_host="$(hostname -I 2>/dev/null | awk '{ print $1 }')"
    [ -n "$da_host" ] || da_host="${DADNS_APP_LISTEN_ADDR}"
fi

cat <<EOF

dadns is running (state in $STATE).

DirectAdmin -> Admin Level -> Multi Server Setup -> Add Server:
  IP / host:    $da_host
  Port:         $INGEST_PORT   (SSL: no)
  User:         $AUTH_USER
  Password:     $AUTH_PASS
  Zone Transfer: on, Domain Check: on   (User Check / Email: off)

named serves the pushed zones on 127.0.0.1 port $DNS_PORT:
  dig @127.0.0.1 -p $DNS_PORT example.com SOA

Push a zone by hand (what DirectAdmin does):
  curl -u '$AUTH_USER:$AUTH_PASS' --data-binary @$DADNS_SRC_DIR/tests/data/e2e/sample-da-push.db \\
    'http://127.0.0.1:$INGEST_PORT/CMD_API_DNS_ADMIN?action=rawsave&domain=example.com&hostname=da1&username=admin'
Test the login like DirectAdmin does:
  curl -u '$AUTH_USER:$AUTH_PASS' http://127.0.0.1:$INGEST_PORT/CMD_API_LOGIN_TEST

Status page (same credentials): http://127.0.0.1:$INGEST_PORT/status.html  (JSON: /status)
Metrics: $(metrics_url ingest /metrics) (ingest), $(metrics_url writer /metrics) (writer-bind),
  $(metrics_url reconciler /metrics) (reconciler); /healthz and /readyz on the same ports
Operator tool: $DADNS_BIN_DIR/services/dadnsctl/dadnsctl -c $DADNS_CONF status

Logs: $STATE/logs/{ingest,writer,reconciler,named,redis}.log   Spool (pushes while Redis is down): $STATE/spool
Config: $DADNS_CONF   Redis: redis-cli -p $REDIS_PORT   rndc: rndc -c $RNDC_CONF status
Press Ctrl-C to stop.
EOF

# Wait in the foreground; a service that dies takes the stack down.
while true; do
    for n in redis named ingest writer reconciler; do
        if ! stack_alive "$n"; then
            echo "$n exited unexpectedly; last lines of $STATE/logs/$n.log:" >&2
            tail -n 20 "$STATE/logs/$n.log" >&2 || true
            exit 1
        fi
    done
    sleep 1 &
    wait $! || true
done
