#!/usr/bin/env bash
# test_reconciler_da.sh -- dadns-reconciler, DirectAdmin side, end to end: real Redis, named +
# writer-bind, MariaDB + pdns_server + writer-mysql, three fake DirectAdmin servers (JSON pages
# of 3 zones). Owners migrate or get filled in; a dry run changes nothing; a zone removed from
# its DirectAdmin server is deleted everywhere; a server that does not answer protects its
# zones; a server that suddenly lists nothing trips the mass-deletion guard (nothing deleted,
# reported in the summary, P reconciler:guard, the metric and dadnsctl status) until
# `dadnsctl reconcile --force` deletes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reconciler_lib.sh"

rec_begin

S=2025020202
A_ZONES=(a1.test a2.test a3.test a4.test a5.test a6.test)
for z in "${A_ZONES[@]}"; do
    check "push $z from da1" push_zone "$z" "$S" da1.example.net
done
for z in b1.test b2.test b3.test; do
    check "push $z from da2" push_zone "$z" "$S" da2.example.net
done
check "push c1.test from da3" push_zone c1.test "$S" da3.example.net
check "push m1.test from da1 (it will have moved to da3)" push_zone m1.test "$S" da1.example.net
check "push n1.test from da2 (its owner will be lost)" push_zone n1.test "$S" da2.example.net
redis_cli HSET dadns:zone:n1.test host "" >/dev/null
da_lists da1 "${A_ZONES[@]}"
da_lists da2 b1.test b2.test b3.test n1.test
da_lists da3 c1.test m1.test
for z in "${A_ZONES[@]}" b1.test b2.test b3.test c1.test m1.test n1.test; do
    check "$z served by named and PowerDNS" wait_until 30 served_everywhere "$z" "$S"
done
check "writers settled" wait_until 30 settled

# --- owners: a migration and a fill-in ---------------------------------------------------------
rec_once
check "owners: pass exit 0" eq "$REC_RC" 0
check "owners: two updated" eq "$(rec_last .owners_updated)" 2
check "owners: m1.test now owned by da3" eq "$(redis_zone_field m1.test host)" da3.example.net
check "owners: n1.test owned by da2 again" eq "$(redis_zone_field n1.test host)" da2.example.net
check "owners: logged as a migration" rec_log_has 'owner updated \(zone migrated\).*zone=m1.test from=da1.example.net to=da3.example.net'
check "owners: no version bump" eq "$(redis_zone_field m1.test version)" \
    "$(redis_cli HGET dadns:applied:bind m1.test)"
check "owners: nothing deleted" eq "$(rec_last .orphans_deleted)" 0
check "owners: every server listed all its pages" \
    eq "$(rec_last '[.servers[].zones] | @csv')" "6,4,2"

# --- dry run: a zone removed from DirectAdmin is only reported ----------------------------------
da_lists da1 a1.test a2.test a3.test a4.test a5.test
v6="$(redis_zone_field a6.test version)"
stream_before="$(redis_cli XLEN dadns:changes)"
rec_once -- --dry-run
check "dry run: exit 0" eq "$REC_RC" 0
check "dry run: flagged in the summary" eq "$(rec_last .dry_run)" true
check "dry run: one orphan would be deleted" eq "$(rec_last .orphans_deleted)" 1
check "dry run: named" rec_log_has 'dry run: would delete orphan.*zone=a6.test server=da1'
check "dry run: a6.test still live" zone_live a6.test
check "dry run: a6.test version unchanged" eq "$(redis_zone_field a6.test version)" "$v6"
check "dry run: only the inventory requests were added to the stream" \
    eq "$(redis_cli XLEN dadns:changes)" "$((stream_before + 2))"
sleep 1
check "dry run: a6.test still served everywhere" served_everywhere a6.test "$S"

# --- removed from DirectAdmin: deleted everywhere ------------------------------------------------
rec_once
check "orphan: exit 0" eq "$REC_RC" 0
check "orphan: one deleted" eq "$(rec_last .orphans_deleted)" 1
check "orphan: not held" eq "$(rec_last .orphans_held)" 0
check "orphan: logged" rec_log_has 'orphan deleted.*zone=a6.test owner=da1.example.net server=da1'
check "orphan: a tombstone in Redis" eq "$(redis_zone_field a6.test deleted)" 1
check "orphan: gone from named and PowerDNS" wait_until 30 gone_everywhere a6.test
check "orphan: MySQL state row deleted" wait_until 30 mysql_converged "$REC_DB" a6.test
check "orphan: the other zones stay" served_everywhere a5.test "$S"

# --- DA's list changed during the walk: only zones missing from a second listing are deleted ------
A5=(a1.test a2.test a3.test a4.test a5.test)
da_once da1 a1.test a2.test a3.test a4.test # the first walk misses a5.test (pages shifted)
rec_once
check "relist: exit 0" eq "$REC_RC" 0
check "relist: nothing deleted" eq "$(rec_last .orphans_deleted)" 0
check "relist: a5.test still live" zone_live a5.test
check "relist: logged" rec_log_has 'orphan kept: the server.s second listing has it.*zone=a5.test server=da1'
check "relist: counted" rec_log_has 'pass finished.*orphans_relisted=1'
check "relist: the once list was used" eval '[ ! -e "$REC_DA_DIR/da1.once" ]'
da_mode da1 dead
da_once da1 '@mode json' a1.test a2.test a3.test a4.test # then the second listing fails
rec_once
da_mode da1 json
check "relist failed: exit 0" eq "$REC_RC" 0
check "relist failed: nothing deleted" eq "$(rec_last .orphans_deleted)" 0
check "relist failed: a5.test still live" zone_live a5.test
check "relist failed: logged" rec_log_has 'did not answer its second listing.*server=da1'
check "relist failed: counted" rec_log_has 'pass finished.*orphans_unconfirmed=1'

# --- an orphan re-created during the pass is not deleted --------------------------------------------
check "push r1.test from da1" push_zone r1.test "$S" da1.example.net
da_lists da1 "${A5[@]}"   # r1.test removed in DirectAdmin...
da_once da1 '@delay 2' "${A5[@]}"
( rec_once; printf '%s\n' "$REC_RC" >"$STACK_DIR/rec-bg.rc"; printf '%s\n' "$REC_OUT" >"$STACK_DIR/rec-bg.out" ) &
bg=$!
check "recreated: the pass is listing" wait_until 10 eval '[ ! -e "$REC_DA_DIR/da1.once" ]'
v_old="$(redis_zone_field r1.test version)"
check "recreated: deleted in DirectAdmin" delete_zone r1.test da1.example.net
check "recreated: ...and added again" push_zone r1.test "$S" da1.example.net
v_new="$(redis_zone_field r1.test version)"
wait "$bg" || true
REC_RC="$(cat "$STACK_DIR/rec-bg.rc")"
REC_OUT="$(cat "$STACK_DIR/rec-bg.out")"
check "recreated: a newer version" eval '[ "$v_new" -gt "$v_old" ]'
check "recreated: exit 0" eq "$REC_RC" 0
check "recreated: nothing deleted" eq "$(rec_last .orphans_deleted)" 0
check "recreated: r1.test live at its new version" \
    eval 'zone_live r1.test && [ "$(redis_zone_field r1.test version)" = "$v_new" ]'
check "recreated: logged" rec_log_has "orphan kept: it changed during the pass.*zone=r1.test owner=da1.example.net was=$v_old version=$v_new"
check "recreated: counted" rec_log_has 'pass finished.*orphans_changed=1'
check "recreated: served" wait_until 30 served_everywhere r1.test "$S"
check "recreated: r1.test deleted again (da1 owns five zones below)" \
    delete_zone r1.test da1.example.net

# --- a server that does not answer protects its zones ---------------------------------------------
check "writers settled" wait_until 30 settled
da_mode da2 dead
da_lists da2 b1.test n1.test # b2, b3 no longer listed, but da2 does not answer
rec_once
check "da2 dead: exit 0" eq "$REC_RC" 0
check "da2 dead: reported as not answering" eq "$(rec_last '.servers[1].answered')" false
check "da2 dead: with the reason" eval '[ -n "$(rec_last .servers[1].error)" ]'
check "da2 dead: nothing deleted" eq "$(rec_last '.orphans_deleted + .orphans_held')" 0
check "da2 dead: b2.test and b3.test still live" eval 'zone_live b2.test && zone_live b3.test'
check "da2 dead: still served" served_everywhere b3.test "$S"
da_mode da2 json
da_lists da2 b1.test b2.test b3.test n1.test

# --- a server that suddenly lists nothing: the guard -----------------------------------------------
check "writers settled" wait_until 30 settled
rec_start
da_mode da1 empty
out="$(dadnsctl_cmd reconcile --wait 60 2>&1)" && rc=0 || rc=$?
check "guard: dadnsctl reconcile --wait exit 0" eq "$rc" 0
check "guard: tripped in the summary" eq "$(rec_last .guard_tripped)" true
check "guard: reason names da1" has "$(rec_last .guard_reason)" "da1 lists no zones but owns 5"
check "guard: five orphans held, none deleted" \
    eq "$(rec_last '[.orphans_held, .orphans_deleted] | @csv')" "5,0"
check "guard: P reconciler:guard names da1" eq "$(redis_cli HGET dadns:reconciler:guard server)" da1
check "guard: would_delete 5" eq "$(redis_cli HGET dadns:reconciler:guard would_delete)" 5
check "guard: listed 0" eq "$(redis_cli HGET dadns:reconciler:guard listed)" 0
check "guard: the metric" eq "$(rec_metric dadns_reconciler_guard_tripped)" 1
check "guard: logged at error level" \
    eval 'stack_log_since_start reconciler | grep -q "level=error.*mass-deletion guard tripped"'
check "guard: dadnsctl status shows it" has "$(dadnsctl_cmd status 2>&1)" "TRIPPED"
for z in a1.test a2.test a3.test a4.test a5.test; do
    check "guard: $z still live" zone_live "$z"
done
check "guard: still served" served_everywhere a1.test "$S"

# an ordinary pass keeps holding
out="$(dadnsctl_cmd reconcile --wait 60 2>&1)" && rc=0 || rc=$?
check "guard: a second pass holds again" eq "$(rec_last '[.orphans_held, .orphans_deleted] | @csv')" "5,0"
check "guard: still recorded" eq "$(redis_cli EXISTS dadns:reconciler:guard)" 1

# the operator decides
out="$(dadnsctl_cmd reconcile --force --wait 60 2>&1)" && rc=0 || rc=$?
check "force: dadnsctl reconcile --force --wait exit 0" eq "$rc" 0
check "force: the summary says forced" eq "$(rec_last .forced)" true
check "force: five deleted" eq "$(rec_last '[.orphans_deleted, .orphans_held] | @csv')" "5,0"
check "force: guard cleared in Redis" eq "$(redis_cli EXISTS dadns:reconciler:guard)" 0
check "force: the metric back to 0" eq "$(rec_metric dadns_reconciler_guard_tripped)" 0
check "force: orphans counted" eq "$(rec_metric dadns_reconciler_orphans_deleted_total)" 5
for z in a1.test a2.test a3.test a4.test a5.test; do
    check "force: $z gone everywhere" wait_until 30 gone_everywhere "$z"
done
check "force: the other servers' zones stay" served_everywhere b1.test "$S"
check "force: m1.test (now da3's) stays" served_everywhere m1.test "$S"

# --- SIGTERM during a pass (a slow server being listed) --------------------------------------------
da_mode da3 slow
started="$(stack_log_since_start reconciler | grep -c 'pass started' || true)"
dadnsctl_cmd reconcile >/dev/null 2>&1 || true
check "slow server: a pass starts" wait_until 10 \
    eval '[ "$(stack_log_since_start reconciler | grep -c "pass started")" -gt "$started" ]'
sleep 0.5
t0="$(now_ns)"
stack_stop reconciler
check "SIGTERM during a pass: exit 0" eq "$STOP_RC" 0
check "SIGTERM during a pass: stopped within 3 s" eval '[ $(($(now_ns) - t0)) -lt 3000000000 ]'
check "SIGTERM during a pass: the lock is released" eq "$(redis_cli EXISTS dadns:reconciler:lock)" 0
check "SIGTERM during a pass: recorded as interrupted" has "$(rec_last .error)" "interrupted"
check "SIGTERM during a pass: nothing deleted" served_everywhere m1.test "$S"
da_mode da3 json

e2e_finish
