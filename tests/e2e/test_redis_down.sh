#!/usr/bin/env bash
# test_redis_down.sh -- Redis unavailable: pushes must fail loudly (5xx, error=1, never error=0),
# /readyz must say so while /healthz stays up; after Redis comes back (same AOF directory) the
# services reconnect by themselves, accepted data is still there and new pushes are served.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin

Z=rd.test
HOST=da1.example.net
T="$STACK_DIR/t"
mkdir -p "$T"
for s in 1 2 3 4 5; do make_zone "$Z" "$s" >"$T/s$s.db"; done

# burst TAG - push 40 zones, one connection each (so every ingest worker thread is likely to be
# hit, with whatever Redis connection it kept); prints how many were accepted.
burst() {
    local i ok=0
    for i in $(seq 1 40); do
        make_zone "$1-$i.test" 1 >"$T/burst.db"
        da_push "$1-$i.test" "$T/burst.db" "$HOST"
        [ "$HTTP_BODY" = "error=0" ] && ok=$((ok + 1))
    done
    echo "$ok"
}

ready_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$INGEST_PORT/readyz"
}

da_push "$Z" "$T/s1.db" "$HOST"
check "push with Redis up: error=0" eq "$HTTP_BODY" "error=0"
check "served serial 1" wait_until 20 zone_serves "$Z" 1

# --- graceful stop ---------------------------------------------------------------------------
stack_stop redis
check "redis stopped" eq "$STOP_RC" 0
da_push "$Z" "$T/s2.db" "$HOST"
check "push with Redis down: 503" code_is 503
check "push with Redis down: error=1" has "$HTTP_BODY" "error=1"
check "push with Redis down: never error=0" lacks "$HTTP_BODY" "error=0"
da_push "$Z" "$T/s2.db" "$HOST"
check "second push with Redis down: 503" code_is 503
da_get "action=exists&domain=$Z"
check "exists with Redis down: 5xx, not a guess" eval '[ "$HTTP_CODE" -ge 500 ]'
check "exists with Redis down: never error=0" lacks "$HTTP_BODY" "error=0"
check "/readyz with Redis down: 503" eq "$(ready_code)" 503
da_raw GET /healthz
check "/healthz with Redis down: 200" code_is 200
da_req GET /CMD_API_LOGIN_TEST
check "LOGIN_TEST with Redis down still answers" code_is 200
check "ingest still running" stack_alive ingest
check "writer still running" stack_alive writer
check "named still serves serial 1" zone_serves "$Z" 1

stack_start_redis
check "/readyz after Redis is back: 200" wait_until 20 eval '[ "$(ready_code)" = 200 ]'
check "accepted data survived the restart (AOF)" \
    eq "$(redis_cli HGET "dadns:zone:$Z" serial)" 1
da_push "$Z" "$T/s3.db" "$HOST"
check "push after Redis is back: error=0" eq "$HTTP_BODY" "error=0"
check "push after Redis is back: served" wait_until 20 zone_serves "$Z" 3
check "40 pushes after the restart: all accepted" eq "$(burst after-stop)" 40

# --- crash (SIGKILL) -------------------------------------------------------------------------
da_push "$Z" "$T/s4.db" "$HOST"
check "push before the crash: error=0" eq "$HTTP_BODY" "error=0"
kill -KILL "$(stack_pid redis)"
wait "$(stack_pid redis)" 2>/dev/null || true
unset "STACK_PIDS[redis]"
da_push "$Z" "$T/s5.db" "$HOST"
check "push with Redis killed: 503" code_is 503
check "push with Redis killed: never error=0" lacks "$HTTP_BODY" "error=0"
stack_start_redis
check "acknowledged push survived kill -9 (appendfsync always)" \
    eq "$(redis_cli HGET "dadns:zone:$Z" serial)" 4
check "the push acknowledged before the crash is served" wait_until 20 zone_serves "$Z" 4
check "/readyz after the crash recovery: 200" wait_until 20 eval '[ "$(ready_code)" = 200 ]'
check "40 pushes after the crash recovery: all accepted" eq "$(burst after-crash)" 40
da_push "$Z" "$T/s5.db" "$HOST"
check "push after the crash recovery: error=0" eq "$HTTP_BODY" "error=0"
check "push after the crash recovery: served" wait_until 20 zone_serves "$Z" 5

e2e_finish
