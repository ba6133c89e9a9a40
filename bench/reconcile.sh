#!/usr/bin/env bash
# reconcile.sh -- `make bench-reconcile`: one dadns-reconciler pass over N zones (default
# 100,000) with 3 DirectAdmin servers and 2 backends, timed.
#
# Setup, on a throwaway Redis (tests/e2e/lib.sh):
#  - the store is loaded DIRECTLY into Redis with redis-cli --pipe (not through ingest): N live
#    zone hashes z<n>.bench (owner da1/da2/da3 in turn, a short placeholder text -- the
#    reconciler never reads texts --, serial, a 40-hex digest, version) plus 1,000 old tombstones
#    that both backends have applied (purged by the first pass);
#  - 3 fake DirectAdmin servers (tests/fakeda, JSON pages of reconciler page_size 1000, as DA's
#    default ipp) list their zones, except 50 zones nobody lists any more (orphans: deleted),
#    100 listed by the next server (owner migrations) and 30 listed zones the store lacks;
#  - 2 backends, be1 and be2, whose inventories are answered by a stand-in (bench/reconcile.lua,
#    run every 0.2 s with EVAL), not by real writers: it publishes the store's own serial and
#    digest per zone (the format of common/inventory.c) with drift: be1 lacks 100 zones and
#    serves another serial for 100 more (200 republished), be2 holds 50 managed zones the store
#    has no state for (deleted there) and 20 it does not manage. Real writers over 100k zones
#    (named loading 100k zone files, or 100k zones through writer-mysql) would take minutes to
#    set up; the stand-in keeps the figure about the reconciler.
# Then `dadns-reconciler --once` twice (the first pass acts: orphans, owners, pushes, purge; the
# second is the steady state), each under /usr/bin/time for its peak RSS, and the phase times
# from its "pass finished" log line. Raw outputs under bench/out/reconcile-<time>/.
#
# Arguments: N (default 100000). Environment: DADNS_BIN_DIR (build directory, default
# <repo>/build), BENCH_PAGE_SIZE (DirectAdmin page size, default 1000).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DADNS_SRC_DIR="$ROOT"
: "${DADNS_BIN_DIR:=$ROOT/build}"
export DADNS_BIN_DIR
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
source "$ROOT/bench/lib.sh"

N="${1:-100000}"
PAGE_SIZE="${BENCH_PAGE_SIZE:-1000}"
REC_BIN="$DADNS_BIN_DIR/services/reconciler/dadns-reconciler"
FAKEDA_BIN="$DADNS_BIN_DIR/tests/fakeda"
TOMBSTONES=1000

[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -ge 3000 ] || die "bad zone count '$N' (3000 or more)"
for b in "$REC_BIN" "$FAKEDA_BIN"; do
    [ -x "$b" ] || die "missing $b: run 'make build' first"
done
for c in redis-server redis-cli /usr/bin/time; do
    command -v "$c" >/dev/null || die "$c not found"
done

OUT="$ROOT/bench/out/reconcile-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
RESP_PIDS=()

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM HUP
    trap '' PIPE
    set +e
    for p in "${RESP_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for p in da1 da2 da3; do
        stack_stop "fakeda-$p"
    done
    stack_stop_all
    if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR" ]; then
        cp -r "$STACK_DIR/logs" "$OUT/logs" 2>/dev/null
        rm -rf "$STACK_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

stack_init "$(mktemp -d "${TMPDIR:-/tmp}/dadns-bench-rec.XXXXXX")"
stack_start_redis
echo "Redis on $REDIS_PORT; output in $OUT"

# --- the store, straight into Redis ------------------------------------------------------------
now_ms=$(($(date +%s%3N)))
old_ms=$((now_ms - 30 * 86400 * 1000))
t0="$EPOCHREALTIME"
awk -v n="$N" -v nt="$TOMBSTONES" -v now="$now_ms" -v old="$old_ms" '
function cmd(a, k,   i, s) { # a[1..k] as one RESP command
    s = "*" k "\r\n"
    for (i = 1; i <= k; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
    printf "%s", s
}
BEGIN {
    for (i = 0; i < n; i++) {
        z = sprintf("z%06d.bench", i)
        a[1] = "HSET"; a[2] = "dadns:zone:" z
        a[3] = "text"; a[4] = "; placeholder text of " z " (the reconciler never reads it)"
        a[5] = "host"; a[6] = "da" (i % 3 + 1) ".example.net"
        a[7] = "user"; a[8] = "u" (i % 50)
        a[9] = "serial"; a[10] = "2025010101"
        a[11] = "digest"; a[12] = sprintf("%08x%032x", i, i * 7919)
        a[13] = "version"; a[14] = i + 1
        a[15] = "updated"; a[16] = now
        a[17] = "deleted"; a[18] = "0"
        cmd(a, 18)
        b[1] = "SADD"; b[2] = "dadns:zones"; b[3] = z
        cmd(b, 3)
    }
    for (i = 0; i < nt; i++) {
        z = sprintf("t%06d.bench", i)
        a[1] = "HSET"; a[2] = "dadns:zone:" z
        a[3] = "host"; a[4] = "da1.example.net"; a[5] = "user"; a[6] = "u1"
        a[7] = "serial"; a[8] = "0"; a[9] = "digest"; a[10] = ""
        a[11] = "version"; a[12] = n + i + 1; a[13] = "updated"; a[14] = old
        a[15] = "deleted"; a[16] = "1"; a[17] = "text"; a[18] = ""
        cmd(a, 18)
        for (j = 1; j <= 2; j++) {
            c[1] = "HSET"; c[2] = "dadns:applied:be" j; c[3] = z; c[4] = n + i + 1
            cmd(c, 4)
        }
    }
    d[1] = "SET"; d[2] = "dadns:version"; d[3] = n + nt
    cmd(d, 3)
}' | redis_cli --pipe >"$OUT/load.txt"
t1="$EPOCHREALTIME"
load_s="$(awk -v a="$(ns_of "$t0")" -v b="$(ns_of "$t1")" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
echo "store loaded: $N zones + $TOMBSTONES tombstones in ${load_s}s ($(tail -n 1 "$OUT/load.txt"))"

# --- three fake DirectAdmin servers --------------------------------------------------------------
# zone i is recorded under da(i%3+1) and listed by it, except: i%2000 == 999 nobody (orphans),
# i%1000 == 500 the next server (migrations); each server also lists 10 zones the store lacks.
mkdir -p "$STACK_DIR/da"
awk -v n="$N" -v dir="$STACK_DIR/da" 'BEGIN {
    for (i = 0; i < n; i++) {
        if (i % 2000 == 999) continue
        s = i % 3
        if (i % 1000 == 500) s = (s + 1) % 3
        printf "z%06d.bench\n", i > (dir "/da" (s + 1) ".zones")
    }
    for (s = 1; s <= 3; s++)
        for (j = 0; j < 10; j++)
            printf "new%d-%d.bench\n", s, j > (dir "/da" s ".zones")
}'
declare -A DA_PORT=()
for s in da1 da2 da3; do
    stack_free_port da_port
    DA_PORT[$s]="$da_port"
    stack_spawn "fakeda-$s" "$FAKEDA_BIN" -z "$STACK_DIR/da/$s.zones" -p "$da_port" -u admin \
        -P secret
    wait_until 10 eval 'stack_log_since_start "fakeda-$s" | grep -qx "$da_port"' ||
        die "fakeda $s did not start"
done

cat >>"$DADNS_CONF" <<EOF
    be1:
      type: bind
      zones_dir: "$STACK_DIR/be1"
      named_conf: "$STACK_DIR/be1.conf"
    be2:
      type: bind
      zones_dir: "$STACK_DIR/be2"
      named_conf: "$STACK_DIR/be2.conf"
directadmin:
  servers:
EOF
for s in da1 da2 da3; do
    cat >>"$DADNS_CONF" <<EOF
    $s:
      host: 127.0.0.1
      port: ${DA_PORT[$s]}
      user: admin
      password: secret
      tls: false
      hostname: $s.example.net
      page_size: $PAGE_SIZE
EOF
done
cat >>"$DADNS_CONF" <<EOF
reconciler:
  inventory_timeout_s: 120
EOF
grep -q '^metrics:' "$DADNS_CONF" || printf 'metrics:\n  port: 0\n' >>"$DADNS_CONF"
# the generated config's own "bind" backend has no writer here: disable it
sed -i '/^    bind:$/a\      enabled: false' "$DADNS_CONF"

# --- the stand-in writers -------------------------------------------------------------------------
SHA="$(redis_cli SCRIPT LOAD "$(cat "$ROOT/bench/reconcile.lua")")"
responder() { # responder BACKEND - answer its inventory requests until killed
    while :; do
        redis_cli EVALSHA "$SHA" 3 dadns:changes dadns:zones "bench:responder:$1" dadns: "$1" \
            "$(date +%s)" >/dev/null 2>&1 || true
        sleep 0.2
    done
}
responder be1 &
RESP_PIDS+=($!)
responder be2 &
RESP_PIDS+=($!)

# --- the passes -----------------------------------------------------------------------------------
field() { # field KEY LINE
    kv "$1" "$2"
}
run_pass() { # run_pass LABEL
    local log="$OUT/pass-$1.log" line rss
    env -u DADNS_METRICS_PORT /usr/bin/time -f 'maxrss_kib=%M' -o "$OUT/pass-$1.time" \
        "$REC_BIN" -c "$DADNS_CONF" --once >"$log" 2>&1 || die "pass $1 failed (log: $log)"
    line="$(grep 'msg="pass finished"' "$log" | tail -n 1)"
    rss="$(sed -n 's/^maxrss_kib=//p' "$OUT/pass-$1.time")"
    rss="$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
    {
        printf '%-8s duration %6ss  peak RSS %6s MiB\n' "$1" "$(field duration_s "$line")" "$rss"
        printf '         phases: store %ss, directadmin %ss, plan %ss, apply %ss, ' \
            "$(field store_s "$line")" "$(field directadmin_s "$line")" "$(field plan_s "$line")" \
            "$(field apply_s "$line")"
        printf 'inventory wait %ss, compare %ss, purge %ss\n' "$(field inventory_wait_s "$line")" \
            "$(field compare_s "$line")" "$(field purge_s "$line")"
        printf '         live %s, zones seen %s, orphans deleted %s, owners updated %s, ' \
            "$(field live "$line")" "$(field zones_seen "$line")" \
            "$(field orphans_deleted "$line")" "$(field owners_updated "$line")"
        printf 'republished %s, deleted on backend %s, unmanaged %s, tombstones purged %s\n' \
            "$(field republished "$line")" "$(field deleted_on_backend "$line")" \
            "$(field unmanaged "$line")" "$(field tombstones_purged "$line")"
    } | tee -a "$SUMMARY"
}

{
    echo "dadns-reconciler --once over $N zones, 3 DirectAdmin servers (page size $PAGE_SIZE), 2 backends (stand-in inventories)"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r); $(redis-server --version | awk '{ print $3 }')"
    echo "store loaded with redis-cli --pipe in ${load_s}s"
} | tee "$SUMMARY"
run_pass first
run_pass second
echo "summary: $SUMMARY"
