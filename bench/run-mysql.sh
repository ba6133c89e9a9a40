#!/usr/bin/env bash
# run-mysql.sh -- `make bench-mysql`: how fast DirectAdmin pushes become rows in MariaDB that
# PowerDNS serves, through dadns-writer-mysql (powerdns_mysql backend).
#
# For each writer layout -- one replica, then two replicas in ONE consumer group (same backend,
# consumer names bench-r1/bench-r2 via DADNS_WRITER_CONSUMER_NAME) -- and each mode, on a fresh
# throwaway stack (tests/e2e/lib.sh: Redis, ingest, mariadbd, pdns_server with caches off):
#   backlog: wrk pushes N distinct realistic zones (bench/push.lua) with no writer running, then
#            the writer(s) start; timed from their start.
#   live:    the writer(s) run while wrk pushes; timed from the first push.
# "committed" = every zone's row in the writer's state table has the pushed serial (each zone is
# pushed once, so that is its latest version), polled every 0.2 s; "served" = pdns_server answers
# every zone's SOA with that serial (dadns-bench-soawait -p <pdns port>). By default
# (BENCH_SERVED=after) nothing queries pdns_server while the writers work: with its caches off
# every DNS query is SQL on the same MariaDB, and polling 10,000 zones at 5,000 queries/s halved
# the commit rate on 2 cores. soawait starts once all N are committed, and "served" is the time
# until it saw every SOA, counted from the same start (so it includes the commit time).
# BENCH_SERVED=concurrent polls from the start instead, at BENCH_SOA_QPS (the old way: a lower
# bound for "served" but a slower "committed"). Then the peak RSS (VmHWM) of the writer(s),
# mariadbd and pdns_server. Prints a summary table and keeps raw outputs under
# bench/out/mysql-<time>/.
#
# Arguments: N (default 10000). Environment: BENCH_THREADS (2), BENCH_CONNECTIONS (32),
# BENCH_TIMEOUT (seconds per phase, 600), BENCH_SERVED (after|concurrent), BENCH_SOA_QPS (5000),
# BENCH_MYSQL_MODES ("backlog live"), BENCH_MYSQL_REPLICAS ("1 2"), BENCH_MYSQL_HOOKS (0 = none,
# the default: the test pdns_server runs with its caches off; 1 = post_commit purge {zone}$ and
# post_create rediscover through pdns_control, as a production setup with caches needs -- one
# process per zone), BENCH_GROUP_SIZE (the backend's group_size; default: the writer's),
# DADNS_BIN_DIR (build directory, default <repo>/build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DADNS_SRC_DIR="$ROOT"
: "${DADNS_BIN_DIR:=$ROOT/build}"
export DADNS_BIN_DIR
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
source "$ROOT/bench/lib.sh"

N="${1:-10000}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
TIMEOUT="${BENCH_TIMEOUT:-600}"
SOA_QPS="${BENCH_SOA_QPS:-5000}"
SERVED="${BENCH_SERVED:-after}"
GROUP_SIZE="${BENCH_GROUP_SIZE:-}"
read -r -a MODES <<<"${BENCH_MYSQL_MODES:-backlog live}"
read -r -a REPLICAS <<<"${BENCH_MYSQL_REPLICAS:-1 2}"
HOOKS="${BENCH_MYSQL_HOOKS:-0}"
SOAWAIT="$DADNS_BIN_DIR/bench/dadns-bench-soawait"
SERIAL=2025010101

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "bad zone count '$N'"
for m in "${MODES[@]}"; do
    case "$m" in backlog | live) ;; *) die "bad mode '$m' (backlog|live)" ;; esac
done
for r in "${REPLICAS[@]}"; do
    [[ "$r" =~ ^[1-9]$ ]] || die "bad replica count '$r'"
done
case "$SERVED" in after | concurrent) ;; *) die "bad BENCH_SERVED '$SERVED' (after|concurrent)" ;; esac
[ -z "$GROUP_SIZE" ] || [[ "$GROUP_SIZE" =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_GROUP_SIZE"
for b in "$INGEST_BIN" "$MYSQL_WRITER_BIN" "$SOAWAIT"; do
    [ -x "$b" ] || die "missing $b: run 'make build' first"
done
for c in wrk curl redis-server mariadb mariadb-install-db pdns_control; do
    command -v "$c" >/dev/null || die "$c not found: run 'make deps'"
done
mariadb_bins_present || die "mariadbd not found: run 'make deps'"

OUT="$ROOT/bench/out/mysql-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE
    set +e
    [ -n "${WRK_PID:-}" ] && kill -INT "$WRK_PID" 2>/dev/null
    [ -n "${SOA_PID:-}" ] && kill -TERM "$SOA_PID" 2>/dev/null
    [ -n "${POLL_PID:-}" ] && kill -TERM "$POLL_PID" 2>/dev/null
    stack_stop_all
    if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR" ]; then
        cp -r "$STACK_DIR/logs" "$OUT/logs-last" 2>/dev/null
        rm -rf "$STACK_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

secs_between() { # secs_between FROM TO (EPOCHREALTIME values) -> seconds, 2 decimals
    awk -v a="$(ns_of "$1")" -v b="$(ns_of "$2")" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'
}

# committed_count - state rows at the pushed serial (0 while the table does not exist yet).
committed_count() {
    mysql_q bench "SELECT COUNT(*) FROM dadns_state WHERE serial = $SERIAL AND deleted = 0" \
        2>/dev/null || echo 0
}

# commit_poller FILE - write EPOCHREALTIME to FILE once all N zones are committed (background).
commit_poller() {
    local c deadline=$((SECONDS + TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        c="$(committed_count)"
        if [ "${c:-0}" -ge "$N" ]; then
            echo "$EPOCHREALTIME" >"$1"
            return 0
        fi
        echo "$EPOCHREALTIME ${c:-0}" >>"$1.progress"
        sleep 0.2
    done
    return 1
}

# push_all TAG MARKS WRK_OUT - wrk pushes the N zones; returns once every thread is answered.
push_all() {
    local auth marks_dir="$2"
    auth="$(printf '%s' "$AUTH_USER:$AUTH_PASS" | base64 -w0)"
    wrk -t "$THREADS" -c "$CONNS" -d "${TIMEOUT}s" --timeout 30s --latency \
        -s "$ROOT/bench/push.lua" "http://127.0.0.1:$INGEST_PORT" \
        -- "$N" "$THREADS" "$auth" "$SERIAL" "$1" "$2" >"$3" 2>&1 &
    WRK_PID=$!
    wait_until "$TIMEOUT" eval '[ "$(find "$marks_dir" -name "done.*" | wc -l)" -ge "$THREADS" ]' ||
        echo "   warning: not every wrk thread finished within ${TIMEOUT}s"
    sleep 0.05
    kill -INT "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" || true
    WRK_PID=""
}

# start_soawait LIST OUT T0 - soawait for every zone of LIST from T0 (EPOCHREALTIME), in the
# background (SOA_PID): at BENCH_SOA_QPS when polling during the commit, unlimited afterwards.
start_soawait() {
    local qps=0
    [ "$SERVED" = concurrent ] && qps="$SOA_QPS"
    "$SOAWAIT" -p "$PDNS_PORT" -f "$1" -e "$SERIAL" -T "$3" -t "$TIMEOUT" \
        -Q "$qps" -w 256 -i 1000 >"$2" 2>"$2.progress" &
    SOA_PID=$!
}

start_writers() { # start_writers REPLICAS
    local r
    for r in $(seq 1 "$1"); do
        stack_spawn_writer_mysql "writer-mysql-r$r" pdns "DADNS_WRITER_CONSUMER_NAME=bench-r$r"
    done
    for r in $(seq 1 "$1"); do
        wait_until 30 writer_mysql_ready "writer-mysql-r$r" pdns "bench-r$r" ||
            die "writer-mysql-r$r not ready (log: $STACK_DIR/logs/writer-mysql-r$r.log)"
    done
}

declare -a ROWS=()

run_case() { # run_case REPLICAS MODE
    local reps="$1" mode="$2" dir tag list marks wrk_out soa_out commit_file t0 t_soa line
    local acc fail pps first res=0 t_commit commit_s zps served_s rows per_zone rss_w r
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dadns-bench.XXXXXX")"
    stack_init "$dir"
    stack_start_redis
    stack_start_ingest
    stack_start_mariadb bench
    stack_start_pdns bench
    local extra=()
    [ -n "$GROUP_SIZE" ] && extra+=("group_size=$GROUP_SIZE")
    if [ "$HOOKS" = 1 ]; then
        extra+=(post_commit="$PDNS_PURGE_CMD" post_create="$PDNS_REDISCOVER_CMD")
    fi
    stack_add_mysql_backend pdns powerdns_mysql bench "${extra[@]}"
    tag="m${reps}${mode:0:1}"
    list="$dir/zones.txt"
    marks="$dir/marks"
    mkdir -p "$marks"
    : >"$list"
    local t q
    for t in $(seq 1 "$THREADS"); do
        q=$((N / THREADS + (t <= N % THREADS ? 1 : 0)))
        [ "$q" -gt 0 ] || continue
        seq 1 "$q" | sed "s/^/b$t-/; s/\$/.$tag.test/" >>"$list"
    done
    wrk_out="$OUT/wrk-$reps-$mode.txt"
    soa_out="$OUT/soawait-$reps-$mode.txt"
    commit_file="$OUT/committed-$reps-$mode.txt"
    rm -f "$commit_file" "$commit_file.progress"

    echo "== $N zones, $reps writer replica(s) in one group, mode $mode"
    if [ "$mode" = live ]; then
        start_writers "$reps"
        t0="$EPOCHREALTIME"
        t_soa="$t0"
        commit_poller "$commit_file" &
        POLL_PID=$!
        if [ "$SERVED" = concurrent ]; then start_soawait "$list" "$soa_out" "$t_soa"; fi
        push_all "$tag" "$marks" "$wrk_out"
        first="$(kv first "$(grep '^bench: first=' "$wrk_out" || true)")"
        # time from the first push answered by ingest (wrk's clock, CLOCK_REALTIME)
        [ -n "$first" ] && t0="$first"
    else
        push_all "$tag" "$marks" "$wrk_out"
        echo "   $N pushes queued in Redis (stream length $(redis_cli XLEN dadns:changes)); starting the writer(s)"
        t0="$EPOCHREALTIME"
        t_soa="$t0"
        commit_poller "$commit_file" &
        POLL_PID=$!
        if [ "$SERVED" = concurrent ]; then start_soawait "$list" "$soa_out" "$t_soa"; fi
        start_writers "$reps"
    fi
    line="$(grep '^bench: accepted=' "$wrk_out" || true)"
    acc="$(kv accepted "$line")"
    fail="$(kv failed "$line")"
    pps="$(kv pushes_per_s "$(grep '^bench: first=' "$wrk_out" || true)")"

    wait "$POLL_PID" || res=1
    POLL_PID=""
    if [ "$res" -eq 0 ] && [ -s "$commit_file" ]; then
        t_commit="$(cat "$commit_file")"
        commit_s="$(secs_between "$t0" "$t_commit")"
        zps="$(awk -v n="$N" -v s="$commit_s" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')"
    else
        commit_s="TIMEOUT"
        zps="-"
        echo "   commit: only $(committed_count) of $N zones committed within ${TIMEOUT}s"
    fi
    res=0
    # after the commit (or its timeout): check that pdns_server serves them all
    if [ "$SERVED" = after ]; then start_soawait "$list" "$soa_out" "$t_soa"; fi
    wait "$SOA_PID" || res=$?
    SOA_PID=""
    served_s="$(kv elapsed "$(cat "$soa_out")")"
    if [ "$res" -ne 0 ] || [ -z "$served_s" ]; then
        echo "   soawait: $(cat "$soa_out") $(tail -n 2 "$soa_out.progress")"
        served_s="TIMEOUT"
    else
        # soawait counts from its -T (t_soa); in live mode t0 moved to the first push afterwards
        served_s="$(awk -v e="$served_s" -v s="$(ns_of "$t_soa")" -v z="$(ns_of "$t0")" \
            'BEGIN { printf "%.2f", e + (s - z) / 1e9 }')"
    fi
    rows="$(mysql_q bench "SELECT COUNT(*) FROM records")"
    per_zone="$(awk -v r="$rows" -v n="$N" 'BEGIN { printf "%.1f", r / n }')"
    rss_w=""
    for r in $(seq 1 "$reps"); do
        rss_w="${rss_w:+$rss_w+}$(vmhwm_mib "writer-mysql-r$r")"
    done
    local rss_m rss_p errs
    rss_m="$(vmhwm_mib mariadb)"
    rss_p="$(vmhwm_mib pdns)"
    errs="$(cat "$STACK_DIR"/logs/writer-mysql-r*.log | grep -Eci 'level=(warn|error)|"level": *"(warn|error)"' || true)"
    echo "   pushed: accepted=$acc failed=$fail ($pps pushes/s); committed ${commit_s}s ($zps zones/s);" \
        "served ${served_s}s; rows=$rows ($per_zone/zone); writer warn/error lines: $errs"
    echo "   peak RSS MiB: writer(s)=$rss_w mariadbd=$rss_m pdns_server=$rss_p"
    ROWS+=("$(printf '%8s %8s %7s %11s %9s %10s %9s %9s %8s | %-12s %8s %6s %6s' \
        "$reps" "$mode" "$N" "$acc/$N" "$pps" "$commit_s" "$zps" "$served_s" "$per_zone" \
        "$rss_w" "$rss_m" "$rss_p" "$errs")")
    for r in $(seq 1 "$reps"); do
        cp "$STACK_DIR/logs/writer-mysql-r$r.log" "$OUT/writer-$reps-$mode-r$r.log" 2>/dev/null || true
    done
    stack_stop_all
    cp -r "$dir/logs" "$OUT/logs-$reps-$mode"
    rm -rf "$dir"
    STACK_DIR=""
}

for reps in "${REPLICAS[@]}"; do
    for mode in "${MODES[@]}"; do
        run_case "$reps" "$mode"
    done
done

{
    echo
    echo "dadns writer-mysql benchmark (powerdns_mysql), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores,"
    echo "MariaDB $(mariadb --version | sed -n 's/.*Distrib \([^ ,]*\).*/\1/p') (defaults), PowerDNS caches off," \
        "post_commit/post_create hooks: $([ "$HOOKS" = 1 ] && echo on || echo off)"
    echo "group_size: ${GROUP_SIZE:-default of the writer}"
    echo "backlog = N pushes queued first, timed from the writers' start; live = writers running while"
    echo "wrk pushes ($THREADS threads / $CONNS connections), timed from the first push. committed = all N state rows"
    echo "at the pushed serial; served = pdns_server answers all N SOAs with it (seconds from the same start);"
    if [ "$SERVED" = after ]; then
        echo "no DNS query during the commit: soawait starts once all N are committed (pdns_server with its caches"
        echo "off turns every query into SQL on the same MariaDB), so served = committed + the check's time."
    else
        echo "soawait polls pdns_server from the start at up to $SOA_QPS queries/s (slowing MariaDB down)."
    fi
    echo "zones/s = N / committed; RSS = peak resident set (VmHWM, MiB); err = writer warn/error log lines"
    echo
    printf '%8s %8s %7s %11s %9s %10s %9s %9s %8s | %-12s %8s %6s %6s\n' replicas mode zones \
        accepted pushes/s committed zones/s served rows/zone writer mariadb pdns err
    for r in "${ROWS[@]}"; do
        echo "$r"
    done
    echo
    echo "raw outputs: $OUT"
} | tee "$SUMMARY"
