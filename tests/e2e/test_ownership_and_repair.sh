#!/usr/bin/env bash
# test_ownership_and_repair.sh -- zone ownership across DirectAdmin servers (a rawsave from
# another hostname moves the zone, a delete from a non-owner is refused), idempotent re-pushes
# (no version bump, no reload) and repair of a zone lost behind the writer's back.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin

Z=own.test
T="$STACK_DIR/t"
mkdir -p "$T"

hget() {
    redis_cli HGET "dadns:zone:$Z" "$1"
}

last_loaded() {
    rndc_cmd zonestatus "$Z" 2>/dev/null | sed -n 's/^last loaded: //p'
}

# --- ownership -------------------------------------------------------------------------------
make_zone "$Z" 1 >"$T/s1.db"
make_zone "$Z" 2 >"$T/s2.db"
da_push "$Z" "$T/s1.db" da1.example.net u1
check "push from da1: error=0" eq "$HTTP_BODY" "error=0"
check "push from da1: served" wait_until 20 zone_serves "$Z" 1
check "owner is da1" eq "$(hget host)" da1.example.net
check "user is u1" eq "$(hget user)" u1

da_push "$Z" "$T/s1.db" da2.example.net u2
check "identical push from da2: error=0" eq "$HTTP_BODY" "error=0"
check "identical push from da2 moves ownership to da2" eq "$(hget host)" da2.example.net
check "identical push from da2 moves the user to u2" eq "$(hget user)" u2

da_push "$Z" "$T/s2.db" da2.example.net u2
check "update from da2: error=0" eq "$HTTP_BODY" "error=0"
check "update from da2: served" wait_until 20 zone_serves "$Z" 2
check "owner still da2" eq "$(hget host)" da2.example.net
da_get "action=exists&domain=$Z"
check "exists names the new owner" eq "$HTTP_BODY" "error=0&exists=1&details=Domain+exists+on+da2.example.net"

da_form "action=delete&select0=$Z&hostname=da1.example.net&username=u1"
log_note "delete from non-owner da1 answered: $HTTP_CODE $HTTP_BODY"
check "delete from non-owner: answered (no 5xx)" eval '[ "$HTTP_CODE" -lt 500 ]'
check "delete from non-owner: writer drained" wait_until 20 writer_drained
check "delete from non-owner: zone kept in Redis" eq "$(hget deleted)" 0
check "delete from non-owner: still in dadns:zones" eq "$(redis_cli SISMEMBER dadns:zones "$Z")" 1
check "delete from non-owner: still served" zone_serves "$Z" 2
check "delete from non-owner: zone file kept" test -s "$ZONES_DIR/$Z.db"
check "delete from non-owner: include line kept" include_has "$Z"

# --- identical re-push: no version bump, no reload -------------------------------------------
check "writer drained before the re-push" wait_until 20 writer_drained
v1="$(hget version)"
loaded1="$(last_loaded)"
mtime1="$(stat -c "%.9Y %i" "$ZONES_DIR/$Z.db" 2>/dev/null || true)"
check "named reports a load time" test -n "$loaded1"
sleep 1.2 # named's "last loaded" has one-second resolution
da_push "$Z" "$T/s2.db" da2.example.net u2
check "identical re-push: error=0" eq "$HTTP_BODY" "error=0"
check "identical re-push: writer drained" wait_until 20 writer_drained
sleep 0.5
check "identical re-push: version unchanged" eq "$(hget version)" "$v1"
check "identical re-push: named did not reload the zone" eq "$(last_loaded)" "$loaded1"
check "identical re-push: zone file not rewritten" \
    eq "$(stat -c "%.9Y %i" "$ZONES_DIR/$Z.db" 2>/dev/null || true)" "$mtime1"
check "identical re-push: still served" zone_serves "$Z" 2

# --- repair: zone file removed behind the writer's back --------------------------------------
rm -f "$ZONES_DIR/$Z.db"
da_push "$Z" "$T/s2.db" da2.example.net u2
check "re-push after the file was removed: error=0" eq "$HTTP_BODY" "error=0"
check "repair: zone file written again" wait_until 20 test -s "$ZONES_DIR/$Z.db"
check "repair: version unchanged" eq "$(hget version)" "$v1"
check "repair: served" wait_until 20 zone_serves "$Z" 2

# --- repair: zone removed from named (file and include line) ---------------------------------
rm -f "$ZONES_DIR/$Z.db"
grep -v "^zone \"$Z\" " "$INCLUDE_CONF" >"$T/include.new" || true
cat "$T/include.new" >"$INCLUDE_CONF"
rndc_cmd reconfig >/dev/null
check "named no longer serves the zone" wait_until 20 zone_not_served "$Z"
da_push "$Z" "$T/s2.db" da2.example.net u2
check "re-push after named lost the zone: error=0" eq "$HTTP_BODY" "error=0"
check "repair: served again" wait_until 20 zone_serves "$Z" 2
check "repair: include line back" include_has "$Z"
check "repair: zone file back" test -s "$ZONES_DIR/$Z.db"

# --- a stale writer state does not resurrect an old serial -----------------------------------
da_push "$Z" "$T/s1.db" da2.example.net u2
check "push with the old text again: error=0" eq "$HTTP_BODY" "error=0"
check "the latest push wins (serial 1 served)" wait_until 20 zone_serves "$Z" 1

# --- delete by the owner ---------------------------------------------------------------------
da_form "action=delete&select0=$Z&hostname=da2.example.net&username=u2"
check "delete from owner da2: error=0" eq "$HTTP_BODY" "error=0"
check "delete from owner: not served" wait_until 20 zone_not_served "$Z"
check "delete from owner: zone file gone" wait_until 20 test ! -e "$ZONES_DIR/$Z.db"
check "delete from owner: include line gone" wait_until 20 eval '! include_has "$Z"'
check "delete from owner: deleted=1" eq "$(hget deleted)" 1
check "delete from owner: not in dadns:zones" eq "$(redis_cli SISMEMBER dadns:zones "$Z")" 0

# --- writer restart keeps its place ----------------------------------------------------------
stack_stop writer
check "writer exits 0 on SIGTERM" eq "$STOP_RC" 0
make_zone "$Z" 3 >"$T/s3.db"
da_push "$Z" "$T/s3.db" da1.example.net u1
check "push while the writer is down: error=0" eq "$HTTP_BODY" "error=0"
stack_start_writer
check "the push made while the writer was down is served" wait_until 20 zone_serves "$Z" 3
check "re-created zone owned by da1" eq "$(hget host)" da1.example.net

e2e_finish
