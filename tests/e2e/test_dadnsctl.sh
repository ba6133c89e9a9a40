#!/usr/bin/env bash
# test_dadnsctl.sh -- the operator's tool against a real stack (redis, named, ingest,
# writer-bind): status and zone show, zone push making the writer rewrite a zone file that was
# deleted behind its back, dead-letter list/replay/discard and resync at the Redis level,
# reconcile requests (a stand-in answers for the reconciler), and the exit codes: 2 usage,
# 1 not found / failed, 3 Redis down.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CTL="$DADNS_BIN_DIR/services/dadnsctl/dadnsctl"
[ -x "$CTL" ] || die "missing $CTL: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"

e2e_begin

T="$STACK_DIR/t"
mkdir -p "$T"
FAKE_REC_PID=""

# ctl ARGS... - run dadnsctl on the stack's config (no DADNS_* from the caller); sets CTL_RC,
# CTL_OUT (stdout) and CTL_ERR (stderr).
ctl() {
    local filter
    mapfile -t filter < <(stack_env_filter)
    CTL_RC=0
    env "${filter[@]}" "$CTL" -c "$DADNS_CONF" "$@" >"$T/out" 2>"$T/err" </dev/null || CTL_RC=$?
    CTL_OUT="$(cat "$T/out")"
    CTL_ERR="$(cat "$T/err")"
}

# rc_is WANT - the last dadnsctl exit status is WANT (explains a mismatch with its stderr).
rc_is() {
    if [ "$CTL_RC" = "$1" ]; then
        return 0
    fi
    printf '#   exit status %s, want %s; stderr: %s\n' "$CTL_RC" "$1" "$CTL_ERR"
    return 1
}

# last_entry_fields - "field=value ..." of the newest P changes entry.
last_entry_fields() {
    redis_cli XREVRANGE dadns:changes + - COUNT 1 | tail -n +2 | paste -d= - - | tr '\n' ' '
}

stream_len() {
    redis_cli XLEN dadns:changes
}

file_back() {
    [ -s "$ZONES_DIR/$1.db" ]
}

# --- a few zones, served ---------------------------------------------------------------------
for z in one.test two.test three.test; do
    make_zone "$z" 1 >"$T/$z.db"
    da_push "$z" "$T/$z.db"
    check "push $z: error=0" eq "$HTTP_BODY" "error=0"
done
check "zones served" wait_until 20 eval 'zone_serves one.test 1 && zone_serves two.test 1 &&
    zone_serves three.test 1'
check "writer drained" wait_until 20 writer_drained

# --- status ----------------------------------------------------------------------------------
ctl status
check "status: exit 0" rc_is 0
check "status: live zones" has "$CTL_OUT" "zones: 3 live, 0 tombstones"
check "status: the bind backend with its group" \
    eval 'printf "%s\n" "$CTL_OUT" | grep -Eq "^bind +yes +yes +0 +0 +- +0$"'
check "status: the writer's consumer" has "$CTL_OUT" "${HOSTNAME:-dadns}-local"
check "status: no reconciler pass yet" has "$CTL_OUT" "no pass recorded"
ctl --json status
check "status --json: exit 0" rc_is 0
check "status --json: live 3" has "$CTL_OUT" '"live": 3'
check "status --json: bind pending 0" has "$CTL_OUT" '"pending": 0'
check "status --json: stream length" has "$CTL_OUT" "\"length\": $(stream_len)"

# --- zone show -------------------------------------------------------------------------------
V1="$(redis_zone_field one.test version)"
ctl zone show ONE.test.
check "zone show (name normalized): exit 0" rc_is 0
check "zone show: version" has "$CTL_OUT" "version  $V1"
check "zone show: serial" has "$CTL_OUT" "serial   1"
check "zone show: owner" has "$CTL_OUT" "owner    da1.example.net / user1"
check "zone show: bind applied the current version" \
    eval 'printf "%s\n" "$CTL_OUT" | grep -Eq "^bind +$V1 +yes +1$"'
ctl zone show one.test --json
check "zone show --json: current" has "$CTL_OUT" '"current": true'
ctl zone show one.test --text
check "zone show --text: the stored text" eq "$CTL_OUT" "$(redis_zone_field one.test text)"

# --- zone push rewrites a zone file deleted behind the writer's back -------------------------
rm -f "$ZONES_DIR/one.test.db"
before="$(stream_len)"
ctl zone push one.test
check "zone push: exit 0" rc_is 0
check "zone push: says what it queued" has "$CTL_OUT" "pushed one.test version $V1 to every backend"
check "zone push: one entry" eq "$(stream_len)" "$((before + 1))"
check "zone push: op=push zone version, no backend" \
    eq "$(last_entry_fields)" "op=push zone=one.test version=$V1 "
check "zone push: the writer rewrote the zone file" wait_until 20 file_back one.test
check "zone push: still served" zone_serves one.test 1
ctl zone push two.test --backend bind
check "zone push --backend: exit 0" rc_is 0
check "zone push --backend: backend field" has "$(last_entry_fields)" "backend=bind"
check "writer drained after the pushes" wait_until 20 writer_drained

# --- dead letters at the Redis level ---------------------------------------------------------
V2="$(redis_zone_field two.test version)"
D1="$(redis_cli XADD dadns:dead:bind '*' zone two.test op save version "$V2" \
    reason "injected failure" attempts 20 failed_at "$(date +%s)" id 1-1 consumer x permanent 0)"
ctl dead list
check "dead list: exit 0" rc_is 0
check "dead list: the entry" has "$CTL_OUT" "$D1"
check "dead list: its reason" has "$CTL_OUT" "injected failure"
ctl dead list bind --json
check "dead list bind --json: attempts" has "$CTL_OUT" '"attempts": 20'
check "dead list bind --json: zone" has "$CTL_OUT" '"zone": "two.test"'
before="$(stream_len)"
ctl dead replay bind "$D1"
check "dead replay: exit 0" rc_is 0
check "dead replay: reported" has "$CTL_OUT" "replayed 1 dead letter of bind"
check "dead replay: the dead letter is gone" eq "$(redis_cli XLEN dadns:dead:bind)" 0
check "dead replay: one push entry" eq "$(stream_len)" "$((before + 1))"
check "dead replay: op=push zone version backend" \
    eq "$(last_entry_fields)" "op=push zone=two.test version=$V2 backend=bind "
ctl dead replay bind "$D1"
check "dead replay of a gone entry: exit 1" rc_is 1
check "dead replay of a gone entry: says so" has "$CTL_ERR" "no dead letter $D1"
D2="$(redis_cli XADD dadns:dead:bind '*' zone one.test op save version 1 reason r attempts 3)"
D3="$(redis_cli XADD dadns:dead:bind '*' zone two.test op save version 1 reason r attempts 3)"
redis_cli XADD dadns:dead:bind '*' zone three.test op save version 1 reason r attempts 3 >/dev/null
before="$(stream_len)"
ctl dead discard bind "$D2"
check "dead discard: exit 0" rc_is 0
check "dead discard: two left" eq "$(redis_cli XLEN dadns:dead:bind)" 2
check "dead discard: nothing republished" eq "$(stream_len)" "$before"
ctl dead replay bind "$D3" 1-1
check "dead replay with one unknown id: exit 1" rc_is 1
check "dead replay with one unknown id: the known one moved" \
    eq "$(redis_cli XLEN dadns:dead:bind)" 1
ctl dead discard bind --all
check "dead discard --all: exit 0" rc_is 0
check "dead discard --all: reported" has "$CTL_OUT" "discarded 1 dead letter of bind"
check "dead discard --all: stream gone" eq "$(redis_cli EXISTS dadns:dead:bind)" 0
ctl dead list
check "dead list when empty" has "$CTL_OUT" "no dead letters"

# --- resync ----------------------------------------------------------------------------------
before="$(stream_len)"
ctl resync bind
check "resync: exit 0" rc_is 0
check "resync: pushed every live zone" has "$CTL_OUT" "pushed 3 live zones"
check "resync: three entries" eq "$(stream_len)" "$((before + 3))"
check "resync: all op=push backend=bind" eq "$(redis_cli XREVRANGE dadns:changes + - COUNT 3 |
    grep -c '^bind$')" 3
check "writer drained after the resync" wait_until 20 writer_drained
check "zones still served after the resync" eval 'zone_serves one.test 1 &&
    zone_serves two.test 1 && zone_serves three.test 1'

# --- reconcile -------------------------------------------------------------------------------
ctl reconcile --dry-run
check "reconcile --dry-run: exit 0" rc_is 0
check "reconcile: request dry_run=1" eq "$(redis_cli HGET dadns:reconciler:request dry_run)" 1
check "reconcile: request force=0" eq "$(redis_cli HGET dadns:reconciler:request force)" 0
check "reconcile: request requested_at" \
    eval '[ "$(redis_cli HGET dadns:reconciler:request requested_at)" -ge "$(($(date +%s) - 60))" ]'
ctl reconcile --wait 1
check "reconcile --wait with no reconciler: exit 1" rc_is 1
check "reconcile --wait with no reconciler: says so" has "$CTL_ERR" "no reconciler pass finished"
redis_cli DEL dadns:reconciler:request >/dev/null
# a stand-in reconciler: takes the request, records a pass, deletes the request
(
    for _ in $(seq 1 200); do
        if [ "$(redis_cli HGET dadns:reconciler:request force)" = 1 ]; then
            now="$(date +%s)"
            redis_cli SET dadns:reconciler:last "{\"started_at\":$now,\"finished_at\":$now,\"duration_s\":0.5,\"dry_run\":false,\"forced\":true,\"servers\":[],\"zones_seen\":3,\"orphans_deleted\":0,\"error\":\"\"}" >/dev/null
            redis_cli DEL dadns:reconciler:request >/dev/null
            exit 0
        fi
        sleep 0.1
    done
) &
FAKE_REC_PID=$!
ctl reconcile --force --wait 20
check "reconcile --force --wait: exit 0" rc_is 0
check "reconcile --wait: prints the pass" has "$CTL_OUT" "zones_seen=3"
wait "$FAKE_REC_PID" 2>/dev/null || true
FAKE_REC_PID=""
ctl status
check "status shows the last pass" has "$CTL_OUT" "forced=yes"

# --- exit codes ------------------------------------------------------------------------------
ctl
check "no command: exit 2" rc_is 2
ctl frobnicate
check "unknown command: exit 2" rc_is 2
check "unknown command: named" has "$CTL_ERR" 'unknown command "frobnicate"'
ctl zone show
check "zone show without a name: exit 2" rc_is 2
ctl zone show 'bad..name'
check "zone show with an invalid name: exit 2" rc_is 2
check "invalid name: says why" has "$CTL_ERR" "invalid zone name"
ctl zone show unknown.test
check "zone show unknown zone: exit 1" rc_is 1
check "zone show unknown zone: says so" has "$CTL_ERR" "unknown.test: no state stored"
ctl zone push unknown.test
check "zone push unknown zone: exit 1" rc_is 1
ctl zone push one.test --backend nosuch
check "zone push to an unknown backend: exit 1" rc_is 1
ctl resync nosuch
check "resync of an unknown backend: exit 1" rc_is 1
check "resync of an unknown backend: says so" has "$CTL_ERR" 'unknown backend "nosuch"'
ctl dead replay bind not-an-id
check "dead replay with a malformed id: exit 2" rc_is 2
ctl dead replay bind 1-0 --all
check "dead replay with ids and --all: exit 2" rc_is 2
ctl dead replay nosuch --all
check "dead replay --all of an unknown backend: exit 1" rc_is 1
ctl reconcile --dry-run --force
check "reconcile --dry-run --force: exit 2" rc_is 2
ctl status --frob
check "unknown option: exit 2" rc_is 2
ctl zone push --help
check "zone push --help: exit 0" rc_is 0
check "zone push --help: usage" has "$CTL_OUT" "usage: dadnsctl zone"
CTL_RC=0
"$CTL" -c "$STACK_DIR/missing.yaml" status >/dev/null 2>"$T/err" || CTL_RC=$?
CTL_ERR="$(cat "$T/err")"
check "missing config file: exit 2" rc_is 2

# --- Redis down ------------------------------------------------------------------------------
stack_stop redis
ctl status
check "status with Redis down: exit 3" rc_is 3
check "status with Redis down: says so" has "$CTL_ERR" "cannot connect to Redis"
ctl zone push one.test
check "zone push with Redis down: exit 3" rc_is 3
ctl dead list
check "dead list with Redis down: exit 3" rc_is 3
stack_start_redis
ctl status
check "status after Redis is back: exit 0" rc_is 0

e2e_finish
