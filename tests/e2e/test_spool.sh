#!/usr/bin/env bash
# test_spool.sh -- ingest's spool (issue 4): with Redis down, pushes and deletes from several
# concurrent DirectAdmin clients are answered error=0 only once they are fsynced in the spool;
# the spool survives kill -9 of ingest (a torn tail is cut off at start); when Redis is back
# the spool replays in order (every zone served with its latest serial, deleted zones gone,
# a delete-then-recreate ends recreated) and is removed. exists cannot be answered while the
# spool holds changes (503); a full spool answers 503 error=1, never error=0; a second ingest on
# the same spool directory and an unusable spool directory stop the start with a clear error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by lib.sh (stack_write_configs)
STACK_SPOOL=1
e2e_begin

HOST=da1.example.net
SPOOL="$STACK_DIR/spool"
T="$STACK_DIR/t"
mkdir -p "$T"
CLIENTS=8
NZONES=50

# ready_body - "<code> <body>" of /readyz.
ready_body() {
    local body code
    body="$(curl -s -w '\n%{http_code}' --max-time 10 "http://127.0.0.1:$INGEST_PORT/readyz")" ||
        true
    code="${body##*$'\n'}"
    body="${body%$'\n'*}"
    printf '%s %s' "$code" "$body"
}

# ready_is CODE TEXT - /readyz answers CODE and its body contains TEXT.
ready_is() {
    local r
    r="$(ready_body)"
    [ "${r%% *}" = "$1" ] && [[ "$r" == *"$2"* ]]
}

# req_body ARGS... - one authenticated request with curl (safe in concurrent subshells: no
# shared files); prints the body.
req_body() {
    curl -s --max-time 30 -u "$AUTH_USER:$AUTH_PASS" "$@" 2>/dev/null || true
}

push_body() { # ZONE FILE
    req_body --data-binary "@$2" \
        "http://127.0.0.1:$INGEST_PORT/CMD_API_DNS_ADMIN?action=rawsave&domain=$1&hostname=$HOST&username=user1"
}

delete_body() { # ZONE
    req_body --data "action=delete&select0=$1&hostname=$HOST&username=user1" \
        "http://127.0.0.1:$INGEST_PORT/CMD_API_DNS_ADMIN"
}

# client C - the zones sp-I.test with I % CLIENTS == C, one after the other: serials 1..4,
# then for I > 40 a delete, then for I > 45 a re-creation with serial 5. Writes
# "<answered error=0> <requests>" to $T/client-C.
client() {
    local c="$1" i s ok=0 n=0
    for i in $(seq 1 "$NZONES"); do
        [ $((i % CLIENTS)) -eq "$c" ] || continue
        for s in 1 2 3 4; do
            n=$((n + 1))
            [ "$(push_body "sp-$i.test" "$T/sp-$i-$s.db")" = "error=0" ] && ok=$((ok + 1))
        done
        if [ "$i" -gt 40 ]; then
            n=$((n + 1))
            [ "$(delete_body "sp-$i.test")" = "error=0" ] && ok=$((ok + 1))
        fi
        if [ "$i" -gt 45 ]; then
            n=$((n + 1))
            [ "$(push_body "sp-$i.test" "$T/sp-$i-5.db")" = "error=0" ] && ok=$((ok + 1))
        fi
    done
    echo "$ok $n" >"$T/client-$c"
}

# expected_serial I - what sp-I.test must end as: a serial, or "-" for deleted.
expected_serial() {
    if [ "$1" -le 40 ]; then
        echo 4
    elif [ "$1" -le 45 ]; then
        echo -
    else
        echo 5
    fi
}

# all_converged - named serves every sp zone as expected and none of the del zones.
all_converged() {
    local i want
    for i in $(seq 1 "$NZONES"); do
        want="$(expected_serial "$i")"
        if [ "$want" = - ]; then
            zone_not_served "sp-$i.test" || return 1
        else
            zone_serves "sp-$i.test" "$want" || return 1
        fi
    done
    for i in $(seq 1 10); do
        zone_not_served "del-$i.test" || return 1
    done
}

# redis_matches - Redis holds the expected final state of every zone.
redis_matches() {
    local i want
    for i in $(seq 1 "$NZONES"); do
        want="$(expected_serial "$i")"
        if [ "$want" = - ]; then
            [ "$(redis_zone_field "sp-$i.test" deleted)" = 1 ] || return 1
        else
            [ "$(redis_zone_field "sp-$i.test" deleted)" = 0 ] || return 1
            [ "$(redis_zone_field "sp-$i.test" serial)" = "$want" ] || return 1
        fi
    done
    for i in $(seq 1 10); do
        [ "$(redis_zone_field "del-$i.test" deleted)" = 1 ] || return 1
    done
}

spool_gone() {
    [ ! -e "$SPOOL/spool.log" ]
}

# all_serve PREFIX N SERIAL - named serves PREFIX-1.test .. PREFIX-N.test with SERIAL.
all_serve() {
    local i
    for i in $(seq 1 "$2"); do
        zone_serves "$1-$i.test" "$3" || return 1
    done
}

for i in $(seq 1 "$NZONES"); do
    for s in 1 2 3 4 5; do make_zone "sp-$i.test" "$s" >"$T/sp-$i-$s.db"; done
done

# --- Redis up: direct, spool empty -----------------------------------------------------------
check "/readyz with Redis up: 200 redis ok" ready_is 200 "ready: redis ok"
check "spool directory created 0700" eq "$(stat -c %a "$SPOOL")" 700
for i in $(seq 1 10); do
    make_zone "del-$i.test" 1 >"$T/del-$i.db"
    da_push "del-$i.test" "$T/del-$i.db" "$HOST"
done
check "10 zones pushed with Redis up" eq "$HTTP_BODY" "error=0"
check "they are served" wait_until 30 all_serve del 10 1
check "no spool file while Redis answers" spool_gone

# --- Redis down: the spool takes pushes and deletes from concurrent clients ------------------
stack_stop redis
check "redis stopped" eq "$STOP_RC" 0
pids=()
for c in $(seq 0 $((CLIENTS - 1))); do
    client "$c" &
    pids+=($!)
done
da_form "action=delete&select0=del-1.test&select1=del-2.test&select2=del-3.test&select3=del-4.test&select4=del-5.test&select5=del-6.test&select6=del-7.test&select7=del-8.test&select8=del-9.test&select9=del-10.test&hostname=$HOST&username=user1"
check "a 10-zone delete with Redis down: error=0" eq "$HTTP_BODY" "error=0"
for p in "${pids[@]}"; do wait "$p"; done
ok=0
n=0
for c in $(seq 0 $((CLIENTS - 1))); do
    read -r a b <"$T/client-$c"
    ok=$((ok + a))
    n=$((n + b))
done
check "215 pushes and deletes from $CLIENTS clients sent" eq "$n" 215
check "all answered error=0 with Redis down" eq "$ok" 215
RECORDS=216
check "the spool file holds them" test -s "$SPOOL/spool.log"
check "/readyz: 200, spooling: $RECORDS records" ready_is 200 "ready: spooling: $RECORDS records"
check "log: spooling started, with the reason" \
    eval 'stack_log_since_start ingest | grep "spooling started" | grep -q "reason="'
da_get "action=exists&domain=sp-1.test"
check "exists while changes wait in the spool: 503" code_is 503
check "exists: error=1, says why" has "$HTTP_BODY" "error=1&text=Domain+check+unavailable"
check "exists: never error=0" lacks "$HTTP_BODY" "error=0"
da_req GET /CMD_API_LOGIN_TEST
check "LOGIN_TEST still answers" code_is 200

# --- kill -9 of ingest while Redis is still down: the spool survives --------------------------
stack_kill ingest
head -c 300 /dev/urandom >>"$SPOOL/spool.log" # an append the crash interrupted
stack_start_ingest
check "restarted ingest cut off the torn tail" \
    eval 'stack_log_since_start ingest | grep -q "cut off a torn record"'
check "restarted ingest found the $RECORDS records" \
    eval 'stack_log_since_start ingest | grep "spool opened" | grep -q "pending=$RECORDS"'
check "/readyz after the restart: spooling: $RECORDS records" \
    ready_is 200 "ready: spooling: $RECORDS records"

# A second ingest on the same spool directory refuses to start.
stack_free_port OTHER_PORT
set +e
out="$(timeout 20 env DADNS_APP_LISTEN_PORT="$OTHER_PORT" "$INGEST_BIN" -c "$DADNS_CONF" 2>&1)"
rc=$?
set -e
check "second ingest on the same spool: exit 1" eq "$rc" 1
check "second ingest: says the spool is in use" has "$out" "is in use by another dadns-ingest"
# An unusable spool directory stops the start, naming the path and the reason.
set +e
out="$(timeout 20 env DADNS_APP_LISTEN_PORT="$OTHER_PORT" DADNS_APP_SPOOL_DIR=/dev/null/spool \
    "$INGEST_BIN" -c "$DADNS_CONF" 2>&1)"
rc=$?
set -e
check "unusable spool dir: exit 1" eq "$rc" 1
check "unusable spool dir: path and errno text" \
    has "$out" "cannot create spool directory /dev/null/spool"
check "unusable spool dir: errno text" has "$out" "Not a directory"

# A push after the restart still goes behind the spooled ones.
make_zone "late.test" 7 >"$T/late.db"
da_push late.test "$T/late.db" "$HOST"
check "push after the restart (Redis down): error=0" eq "$HTTP_BODY" "error=0"
RECORDS=$((RECORDS + 1))

# --- Redis back: replay in order, then direct again ------------------------------------------
stack_start_redis
check "spool drained and removed" wait_until 60 spool_gone
check "/readyz: redis ok again" wait_until 20 ready_is 200 "ready: redis ok"
check "log: replay batches" eval 'stack_log_since_start ingest | grep -q "spool replayed"'
check "log: drained" eval 'stack_log_since_start ingest | grep -q "spool drained"'
check "Redis holds the latest state of every zone" redis_matches
check "named serves every zone's latest serial, deleted ones gone" wait_until 90 all_converged
check "the push after the restart is served" wait_until 30 zone_serves late.test 7
da_get "action=exists&domain=sp-1.test"
check "exists after the drain: error=0&exists=1" has "$HTTP_BODY" "error=0&exists=1"
make_zone "direct.test" 3 >"$T/direct.db"
da_push direct.test "$T/direct.db" "$HOST"
check "push with Redis up after the drain: error=0" eq "$HTTP_BODY" "error=0"
check "... written directly (no spool file)" spool_gone
check "... served" wait_until 30 zone_serves direct.test 3

# --- a full spool answers 503 error=1, never a false success ---------------------------------
stack_stop ingest
stack_start_ingest DADNS_APP_SPOOL_MAX_BYTES=65536
stack_stop redis
accepted=0
full_code=""
full_body=""
for i in $(seq 1 80); do
    make_zone "full-$i.test" 1 >"$T/full.db"
    da_push "full-$i.test" "$T/full.db" "$HOST"
    if [ "$HTTP_BODY" = "error=0" ]; then
        accepted=$((accepted + 1))
    else
        full_code="$HTTP_CODE"
        full_body="$HTTP_BODY"
        break
    fi
done
log_note "the 64 KiB spool took $accepted pushes"
check "pushes accepted until the spool is full" eval '[ "$accepted" -ge 20 ] && [ "$accepted" -lt 80 ]'
check "full spool: 503" eq "$full_code" 503
check "full spool: error=1, says so" has "$full_body" "error=1&text=Zone+not+stored"
check "full spool: text names the spool" has "$(urldecode "$full_body")" "spool full"
check "spool file within the limit" eval '[ "$(stat -c %s "$SPOOL/spool.log")" -le 65536 ]'
check "/readyz with a full spool: 503" ready_is 503 "spool full"
stack_start_redis
check "the accepted ones are replayed" wait_until 60 spool_gone
check "... and served" wait_until 60 all_serve full "$accepted" 1
check "the refused one is not stored" eq "$(redis_cli EXISTS "dadns:zone:full-$((accepted + 1)).test")" 0

e2e_finish
