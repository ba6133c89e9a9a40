# obs_lib.sh -- the observability tests' scenario (test_metrics.sh, test_status_page.sh): a real
# stack (redis-server, named, dadns-ingest, dadns-writer-bind, each dadns service with its own
# admin port) with quick retries, OBS_GOOD zones pushed and served, and one zone whose file
# cannot be written (a directory of that name in zones_dir): its first attempt fails (a failure
# record, "retrying"), its second lands in the dead letters (writer.max_attempts 2).
#
# Sourced after lib.sh. Also: metric_value, a Prometheus text reader for the checks.

OBS_GOOD=5
OBS_BAD="obs-bad.test"
OBS_PUSHES=0 # rawsave requests answered error=0
DADNSCTL_BIN="$DADNS_BIN_DIR/services/dadnsctl/dadnsctl"

# metric_value URL SERIES - the value of the series SERIES (name and labels exactly as rendered,
# e.g. 'dadns_dead_letters{backend="bind"}') in the /metrics text at URL; empty when absent.
metric_value() {
    curl -s --max-time 5 "$1" | awk -v s="$2" '$1 == s { print $2; exit }'
}

# metric_ge URL SERIES MIN - the series is present and >= MIN.
metric_ge() {
    local v
    v="$(metric_value "$1" "$2")"
    [ -n "$v" ] && awk -v v="$v" -v m="$3" 'BEGIN { exit !(v + 0 >= m + 0) }' && return 0
    printf '#   %s = %q, want >= %s\n' "$2" "$v" "$3"
    return 1
}

# http_code URL [curl args...] - the HTTP status of a GET (000 when no answer).
http_code() {
    local url="$1"
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true
}

obs_dead_len() {
    redis_cli XLEN dadns:dead:bind 2>/dev/null || echo 0
}

# obs_failures_seen - P failures holds the bad zone as retrying and as dead.
obs_failures_seen() {
    local l
    l="$(redis_cli LRANGE dadns:failures 0 -1 2>/dev/null)"
    grep -q "\"zone\":\"$OBS_BAD\".*\"dead\":false" <<<"$l" &&
        grep -q "\"zone\":\"$OBS_BAD\".*\"dead\":true" <<<"$l"
}

# obs_begin - start the stack and play the scenario; the checks on what it produced are the
# tests'.
obs_begin() {
    local i f
    for f in "$INGEST_BIN" "$WRITER_BIN" "$DADNSCTL_BIN"; do
        [ -x "$f" ] || die "missing $f: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    done
    e2e_enter
    stack_writer_option max_attempts 2
    stack_writer_option retry_base_s 1
    stack_writer_option retry_cap_s 1
    stack_writer_option retry_interval_s 1
    stack_writer_option claim_idle_s 2
    stack_start_redis
    stack_start_named
    stack_start_ingest
    stack_start_writer
    log_note "stack in $STACK_DIR: redis $REDIS_PORT, ingest $INGEST_PORT (admin" \
        "${STACK_METRICS_PORTS[ingest]}), writer-bind admin ${STACK_METRICS_PORTS[writer]}"
    mkdir "$ZONES_DIR/$OBS_BAD.db"
    for i in $(seq 1 "$OBS_GOOD"); do
        make_zone "obs$i.test" "202501010$i" >"$STACK_DIR/obs$i.db"
        da_push "obs$i.test" "$STACK_DIR/obs$i.db"
        [ "$HTTP_BODY" = "error=0" ] && OBS_PUSHES=$((OBS_PUSHES + 1))
    done
    check "$OBS_GOOD zones pushed (error=0)" eq "$OBS_PUSHES" "$OBS_GOOD"
    check "the zones are served by named" wait_until 30 zone_serves "obs$OBS_GOOD.test" \
        "202501010$OBS_GOOD"
    make_zone "$OBS_BAD" 2025010199 >"$STACK_DIR/bad.db"
    da_push "$OBS_BAD" "$STACK_DIR/bad.db"
    [ "$HTTP_BODY" = "error=0" ] && OBS_PUSHES=$((OBS_PUSHES + 1))
    check "the zone that cannot be written is accepted by ingest" eq "$HTTP_BODY" "error=0"
    check "it lands in the dead letters after 2 attempts" \
        wait_until 30 eval '[ "$(obs_dead_len)" = 1 ]'
    check "its failure and its dead letter are in P failures" wait_until 15 obs_failures_seen
    check "the bind group is drained" wait_until 20 writer_drained
}
