#!/usr/bin/env bash
# run.sh -- `make bench`: how fast DirectAdmin pushes become zones named serves.
#
# For each size N (default 1000 and 10000; arguments override) on a fresh throwaway stack
# (tests/e2e/lib.sh): wrk pushes N distinct zones (bench/push.lua, 2 threads, 32 connections)
# while dadns-bench-soawait polls named until every zone serves the pushed serial; then 200
# sequential updates of one zone, each timed from push to served; then the peak RSS of the
# four processes. Prints a summary table and keeps raw outputs under bench/out/<time>/.
#
# Environment: BENCH_THREADS (2), BENCH_CONNECTIONS (32), BENCH_UPDATES (200),
# BENCH_TIMEOUT (seconds per phase, 300), BENCH_SOA_QPS (query rate of the bulk poller, 5000),
# DADNS_BIN_DIR (build directory, default <repo>/build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DADNS_SRC_DIR="$ROOT"
: "${DADNS_BIN_DIR:=$ROOT/build}"
export DADNS_BIN_DIR
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
source "$ROOT/bench/lib.sh"

THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
UPDATES="${BENCH_UPDATES:-200}"
TIMEOUT="${BENCH_TIMEOUT:-300}"
SOA_QPS="${BENCH_SOA_QPS:-5000}"
SOAWAIT="$DADNS_BIN_DIR/bench/dadns-bench-soawait"
SIZES=("$@")
[ "${#SIZES[@]}" -gt 0 ] || SIZES=(1000 10000)

for b in "$INGEST_BIN" "$WRITER_BIN" "$SOAWAIT"; do
    [ -x "$b" ] || die "missing $b: run 'make build' first"
done
for c in wrk curl redis-server named rndc; do
    command -v "$c" >/dev/null || die "$c not found: run 'make deps'"
done
for n in "${SIZES[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "bad size '$n'"
done

OUT="$ROOT/bench/out/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE
    set +e
    [ -n "${WRK_PID:-}" ] && kill -INT "$WRK_PID" 2>/dev/null || true
    [ -n "${SOA_PID:-}" ] && kill -TERM "$SOA_PID" 2>/dev/null || true
    stack_stop_all
    if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR" ]; then
        cp -r "$STACK_DIR/logs" "$OUT/logs-last" 2>/dev/null || true
        rm -rf "$STACK_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# percentile P FILE - the P-th percentile (nearest rank) of the numbers in FILE
percentile() {
    sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'
}

declare -a ROWS=()

run_size() {
    local n="$1" dir tag serial auth t_before marks i t q list soa_out wrk_out res
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dadns-bench.XXXXXX")"
    stack_init "$dir"
    stack_start_all
    tag="r$n"
    serial=2025010101
    auth="$(printf '%s' "$AUTH_USER:$AUTH_PASS" | base64 -w0)"
    marks="$dir/marks"
    mkdir -p "$marks"
    list="$dir/zones.txt"
    : >"$list"
    for t in $(seq 1 "$THREADS"); do
        q=$((n / THREADS + (t <= n % THREADS ? 1 : 0)))
        [ "$q" -gt 0 ] || continue
        seq 1 "$q" | sed "s/^/b$t-/; s/\$/.$tag.test/" >>"$list"
    done
    soa_out="$OUT/soawait-$n.txt"
    wrk_out="$OUT/wrk-$n.txt"

    echo "== $n zones: pushing with wrk ($THREADS threads, $CONNS connections)"
    t_before="$EPOCHREALTIME"
    "$SOAWAIT" -p "$DNS_PORT" -f "$list" -e "$serial" -T "$t_before" -t "$TIMEOUT" \
        -Q "$SOA_QPS" -w 256 -i 1000 >"$soa_out" 2>"$OUT/soawait-$n.progress" &
    SOA_PID=$!
    wrk -t "$THREADS" -c "$CONNS" -d "${TIMEOUT}s" --timeout 30s --latency \
        -s "$ROOT/bench/push.lua" "http://127.0.0.1:$INGEST_PORT" \
        -- "$n" "$THREADS" "$auth" "$serial" "$tag" "$marks" >"$wrk_out" 2>&1 &
    WRK_PID=$!
    # wrk stops only after -d: end it once every thread has its answers.
    wait_until "$TIMEOUT" eval '[ "$(find "$marks" -name "done.*" | wc -l)" -ge "$THREADS" ]' ||
        echo "warning: not every wrk thread finished within ${TIMEOUT}s"
    sleep 0.05
    kill -INT "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" || true
    WRK_PID=""
    echo "   pushes answered; waiting for named to serve all $n zones"
    res=0
    wait "$SOA_PID" || res=$?
    SOA_PID=""

    local acc fail first last psecs pps p50 p90 p99 p999 soa_el all_at from_first after_last
    local line lat
    line="$(grep '^bench: accepted=' "$wrk_out" || true)"
    acc="$(kv accepted "$line")"
    fail="$(kv failed "$line")"
    line="$(grep '^bench: first=' "$wrk_out" || true)"
    first="$(kv first "$line")"
    last="$(kv last "$line")"
    psecs="$(kv seconds "$line")"
    pps="$(kv pushes_per_s "$line")"
    lat="$(grep '^bench: latency_ms' "$wrk_out" || true)"
    p50="$(kv p50 "$lat")"
    p90="$(kv p90 "$lat")"
    p99="$(kv p99 "$lat")"
    p999="$(kv p99.9 "$lat")"
    soa_el="$(kv elapsed "$(cat "$soa_out")")"
    if [ "$res" -eq 0 ] && [ -n "$soa_el" ] && [ -n "$first" ]; then
        all_at=$(($(ns_of "$t_before") + $(ns_of "$soa_el")))
        from_first="$(awk -v a="$all_at" -v f="$(ns_of "$first")" 'BEGIN { printf "%.2f", (a - f) / 1e9 }')"
        after_last="$(awk -v a="$all_at" -v l="$(ns_of "$last")" 'BEGIN { printf "%.2f", (a - l) / 1e9 }')"
    else
        from_first="TIMEOUT"
        after_last="-"
        echo "   soawait: $(cat "$soa_out") $(tail -n 2 "$OUT/soawait-$n.progress")"
    fi
    echo "   accepted=$acc failed=$fail in ${psecs}s ($pps pushes/s); all served ${from_first}s after the first push"

    # --- single-zone update latency, with the N zones loaded ---------------------------------
    local z="upd.$tag.test" s0=3000000000 f t1 body tt el ok=0 bad=0 lfile="$OUT/update-latency-$n.txt"
    : >"$lfile"
    : >"$lfile.push"
    : >"$lfile.apply"
    mkdir -p "$dir/upd"
    for i in $(seq 0 "$UPDATES"); do
        make_zone "$z" $((s0 + i)) >"$dir/upd/$i.db"
    done
    curl -s -o /dev/null -u "$AUTH_USER:$AUTH_PASS" --data-binary "@$dir/upd/0.db" \
        "http://127.0.0.1:$INGEST_PORT/CMD_API_DNS_ADMIN?action=rawsave&domain=$z&hostname=bench&username=u"
    "$SOAWAIT" -p "$DNS_PORT" -z "$z" -e "$s0" -t 60 -q >/dev/null ||
        echo "   warning: $z not served with its first serial"
    echo "   $UPDATES sequential updates of $z"
    for i in $(seq 1 "$UPDATES"); do
        f="$dir/upd/$i.db"
        tt="$(curl -s -o "$dir/upd/answer" -w '%{time_total}' -u "$AUTH_USER:$AUTH_PASS" \
            --data-binary "@$f" \
            "http://127.0.0.1:$INGEST_PORT/CMD_API_DNS_ADMIN?action=rawsave&domain=$z&hostname=bench&username=u")" ||
            tt=""
        t1="$EPOCHREALTIME"
        body="$(cat "$dir/upd/answer" 2>/dev/null || true)"
        if [ "$body" != "error=0" ] || [ -z "$tt" ]; then
            bad=$((bad + 1))
            continue
        fi
        line="$("$SOAWAIT" -p "$DNS_PORT" -z "$z" -e $((s0 + i)) -T "$t1" -r 1 -R 100 -Q 0 -t 30 -q)" || {
            bad=$((bad + 1))
            continue
        }
        el="$(kv elapsed "$line")"
        # push (curl's own request time) + from the answer to named serving the serial
        awk -v a="$tt" -v b="$el" 'BEGIN { printf "%.3f\n", (a + b) * 1000 }' >>"$lfile"
        awk -v a="$tt" 'BEGIN { printf "%.3f\n", a * 1000 }' >>"$lfile.push"
        awk -v b="$el" 'BEGIN { printf "%.3f\n", b * 1000 }' >>"$lfile.apply"
        ok=$((ok + 1))
    done
    local u50 u90 u99 umax
    u50="$(percentile 50 "$lfile")"
    u90="$(percentile 90 "$lfile")"
    u99="$(percentile 99 "$lfile")"
    umax="$(percentile 100 "$lfile")"
    echo "   update latency ms: p50=$u50 p90=$u90 p99=$u99 max=$umax ($ok ok, $bad failed);" \
        "push answer p50=$(percentile 50 "$lfile.push"), answer to served p50=$(percentile 50 "$lfile.apply")"

    local r_in r_wr r_re r_na zones_live
    r_in="$(vmhwm_mib ingest)"
    r_wr="$(vmhwm_mib writer)"
    r_re="$(vmhwm_mib redis)"
    r_na="$(vmhwm_mib named)"
    zones_live="$(redis_cli SCARD dadns:zones)"
    echo "   peak RSS MiB: ingest=$r_in writer-bind=$r_wr redis-server=$r_re named=$r_na (zones live: $zones_live)"

    ROWS+=("$(printf '%7s %9s %7s %9s %7s %7s %7s %8s %11s %10s %8s %8s %8s | %6s %6s %6s %6s' \
        "$n" "$acc/$n" "$fail" "$pps" "$p50" "$p90" "$p99" "$p999" "$from_first" "$after_last" \
        "$u50" "$u99" "$umax" "$r_in" "$r_wr" "$r_re" "$r_na")")
    cp -r "$dir/logs" "$OUT/logs-$n"
    stack_stop_all
    rm -rf "$dir"
    STACK_DIR=""
}

# run_ingest_only N - the accept rate of ingest alone: Redis (AOF, appendfsync always) and
# ingest, no writer or named competing for the two cores; the pushes stay in the stream.
declare -a IROWS=()
run_ingest_only() {
    local n="$1" dir auth marks wrk_out line
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dadns-bench.XXXXXX")"
    stack_init "$dir"
    stack_start_redis
    stack_start_ingest
    auth="$(printf '%s' "$AUTH_USER:$AUTH_PASS" | base64 -w0)"
    marks="$dir/marks"
    mkdir -p "$marks"
    wrk_out="$OUT/wrk-ingest-only-$n.txt"
    echo "== $n zones, ingest alone: pushing with wrk ($THREADS threads, $CONNS connections)"
    wrk -t "$THREADS" -c "$CONNS" -d "${TIMEOUT}s" --timeout 30s --latency \
        -s "$ROOT/bench/push.lua" "http://127.0.0.1:$INGEST_PORT" \
        -- "$n" "$THREADS" "$auth" 2025010101 "i$n" "$marks" >"$wrk_out" 2>&1 &
    WRK_PID=$!
    wait_until "$TIMEOUT" eval '[ "$(find "$marks" -name "done.*" | wc -l)" -ge "$THREADS" ]' ||
        echo "warning: not every wrk thread finished within ${TIMEOUT}s"
    sleep 0.05
    kill -INT "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" || true
    WRK_PID=""
    local acc fail pps p50 p90 p99 p999 lat r_in
    line="$(grep '^bench: accepted=' "$wrk_out" || true)"
    acc="$(kv accepted "$line")"
    fail="$(kv failed "$line")"
    pps="$(kv pushes_per_s "$(grep '^bench: first=' "$wrk_out" || true)")"
    lat="$(grep '^bench: latency_ms' "$wrk_out" || true)"
    p50="$(kv p50 "$lat")"
    p90="$(kv p90 "$lat")"
    p99="$(kv p99 "$lat")"
    p999="$(kv p99.9 "$lat")"
    r_in="$(vmhwm_mib ingest)"
    echo "   accepted=$acc failed=$fail ($pps pushes/s) p50=$p50 p99=$p99 ms; ingest peak RSS $r_in MiB"
    IROWS+=("$(printf '%7s %9s %7s %9s %7s %7s %7s %8s | %6s' "$n" "$acc/$n" "$fail" "$pps" \
        "$p50" "$p90" "$p99" "$p999" "$r_in")")
    stack_stop_all
    rm -rf "$dir"
    STACK_DIR=""
}

for n in "${SIZES[@]}"; do
    run_ingest_only "$n"
    run_size "$n"
done

{
    echo
    echo "dadns benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, wrk $THREADS threads / $CONNS connections"
    echo "push latency = wrk request latency (ms); served = all N zones answer the pushed SOA serial on named,"
    echo "seconds after the first push / after the last push answer; update = one zone updated $UPDATES times"
    echo "sequentially, push to served (ms); RSS = peak resident set (VmHWM, MiB)"
    echo
    echo "ingest alone (Redis + ingest only; push latency ms, ingest peak RSS MiB):"
    printf '%7s %9s %7s %9s %7s %7s %7s %8s | %6s\n' zones accepted failed pushes/s p50 p90 p99 \
        p99.9 ingest
    for r in "${IROWS[@]}"; do
        echo "$r"
    done
    echo
    echo "full stack (ingest + writer-bind + named + Redis on the same 2 cores):"
    printf '%7s %9s %7s %9s %7s %7s %7s %8s %11s %10s %8s %8s %8s | %6s %6s %6s %6s\n' \
        zones accepted failed pushes/s p50 p90 p99 p99.9 served@first served@last \
        upd-p50 upd-p99 upd-max ingest writer redis named
    for r in "${ROWS[@]}"; do
        echo "$r"
    done
    echo
    echo "raw outputs: $OUT"
} | tee "$SUMMARY"
