#!/usr/bin/env bash
# test_reconciler.sh -- dadns-reconciler, backend side, end to end: real Redis, named +
# writer-bind, MariaDB + pdns_server + writer-mysql (powerdns_mysql), three fake DirectAdmin
# servers. Drift made behind dadns's back is found through the writers' inventories and repaired
# on that backend only: a zone file deleted, a served zone edited by hand (file + rndc reload), a
# MySQL row changed, a zone's rows deleted; a zone the store marks deleted but a backend holds
# again is deleted there; a zone MySQL holds that dadns never managed is reported, untouched;
# tombstones are purged after the retention; a backend whose inventory does not come is skipped;
# the lock keeps a second reconciler out; the service answers dadnsctl reconcile and serves
# /metrics and /readyz.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reconciler_lib.sh"

rec_begin

S=2025010101
for z in a1 a2 a3 a4; do
    check "push $z.test from da1" push_zone "$z.test" "$S" da1.example.net
done
check "push b1.test from da2" push_zone b1.test "$S" da2.example.net
check "push c1.test from da3" push_zone c1.test "$S" da3.example.net
da_lists da1 a1.test a2.test a3.test a4.test
da_lists da2 b1.test
da_lists da3 c1.test
for z in a1 a2 a3 a4 b1 c1; do
    check "$z.test served by named and PowerDNS" wait_until 30 served_everywhere "$z.test" "$S"
done
check "writers settled" wait_until 30 settled

# --- a pass with nothing to repair ---------------------------------------------------------------
rec_once
check "first pass: exit 0" eq "$REC_RC" 0
check "first pass: no error in the summary" eq "$(rec_last .error)" ""
check "first pass: three servers answered" eq "$(rec_last '[.servers[] | select(.answered)] | length')" 3
check "first pass: zones seen" eq "$(rec_last .zones_seen)" 6
check "first pass: bind inventoried, nothing to republish" eq "$(rec_last .republished.bind)" 0
check "first pass: mysql inventoried, nothing to republish" eq "$(rec_last .republished.mysql)" 0
check "first pass: nothing deleted on the backends" \
    eq "$(rec_last '.deleted_on_backend.bind + .deleted_on_backend.mysql')" 0
check "first pass: no backend skipped" eq "$(rec_last '.backends_skipped | length')" 0
check "first pass: nothing unmanaged" eq "$(rec_last '.unmanaged.mysql')" 0
check "first pass: no orphans, no owner changes" \
    eq "$(rec_last '[.orphans_deleted, .orphans_held, .owners_updated] | add')" 0
check "first pass: the summary line is logged" rec_log_has 'msg="pass finished".*republished=bind:0,mysql:0'
check "first pass: the inventory keys are gone" eq "$(redis_cli KEYS 'dadns:inventory:*')" ""
check "first pass: the lock is released" eq "$(redis_cli EXISTS dadns:reconciler:lock)" 0

# --- a zone file deleted behind dadns's back -----------------------------------------------------
rm -f "$ZONES_DIR/a1.test.db"
rec_once
check "file deleted: pass exit 0" eq "$REC_RC" 0
check "file deleted: republished to bind only" \
    eq "$(rec_last '[.republished.bind, .republished.mysql] | @csv')" "1,0"
check "file deleted: the zone file is back" wait_until 30 test -s "$ZONES_DIR/a1.test.db"
check "file deleted: still served" zone_serves a1.test "$S"
check "file deleted: the reason is logged" rec_log_has 'republishing to backend.*zone=a1.test.*reason=digest'

# --- a served zone edited by hand --------------------------------------------------------------
check "writers settled" wait_until 30 settled
sed -i -e "s/$S/2025010199/" -e 's/192\.0\.2\.10/192.0.2.66/' "$ZONES_DIR/a2.test.db"
rndc_cmd reload a2.test >/dev/null 2>&1 || true
check "hand edit: named serves the edited serial" wait_until 20 zone_serves a2.test 2025010199
rec_once
check "hand edit: republished to bind" eq "$(rec_last .republished.bind)" 1
check "hand edit: the reason is the served serial" \
    rec_log_has 'zone=a2.test reason=serial served_serial=2025010199 stored_serial=2025010101'
check "hand edit: named serves the stored serial again" wait_until 30 zone_serves a2.test "$S"
check "hand edit: the stored address again" \
    eq "$(dig +short +norec -p "$DNS_PORT" @127.0.0.1 www.a2.test A)" 192.0.2.10

# --- a MySQL row changed by hand ---------------------------------------------------------------
check "writers settled" wait_until 30 settled
mysql_q "$REC_DB" "UPDATE records SET content = '192.0.2.66' WHERE name = 'www.a3.test' AND type = 'A'"
check "row edit: PowerDNS serves the edited address" \
    wait_until 10 eval '[ "$(pdns_short www.a3.test A)" = 192.0.2.66 ]'
rec_once
check "row edit: republished to mysql only" \
    eq "$(rec_last '[.republished.bind, .republished.mysql] | @csv')" "0,1"
check "row edit: the reason is the content digest" rec_log_has 'backend=mysql zone=a3.test reason=digest'
check "row edit: PowerDNS serves the stored address again" \
    wait_until 30 eval '[ "$(pdns_short www.a3.test A)" = 192.0.2.10 ]'

# --- a zone's rows deleted by hand -------------------------------------------------------------
check "writers settled" wait_until 30 settled
mysql_q "$REC_DB" "DELETE r FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = 'a4.test';
DELETE FROM domains WHERE name = 'a4.test'"
check "rows deleted: PowerDNS no longer serves a4.test" wait_until 10 pdns_not_served a4.test
rec_once
check "rows deleted: republished to mysql" eq "$(rec_last .republished.mysql)" 1
check "rows deleted: the reason is missing" rec_log_has 'backend=mysql zone=a4.test reason=missing'
check "rows deleted: PowerDNS serves a4.test again" wait_until 30 pdns_serves a4.test "$S"

# --- a zone dadns never managed ----------------------------------------------------------------
H=hand.test
mysql_q "$REC_DB" "INSERT INTO domains (name, type) VALUES ('$H', 'NATIVE');
SET @d = LAST_INSERT_ID();
INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) VALUES
 (@d, '$H', 'SOA', 'ns1.$H hostmaster.$H 7 3600 600 1209600 300', 3600, 0, 0, 1),
 (@d, '$H', 'NS', 'ns1.example.net', 3600, 0, 0, 1)"
rows_before="$(mysql_q "$REC_DB" "SELECT COUNT(*) FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = '$H'")"
stream_before="$(redis_cli XLEN dadns:changes)"
rec_once
check "unmanaged: reported" eq "$(rec_last .unmanaged.mysql)" 1
check "unmanaged: logged by name" rec_log_has "not managed by dadns.*zone=$H"
check "unmanaged: nothing republished or deleted" \
    eq "$(rec_last '[.republished.mysql, .deleted_on_backend.mysql] | @csv')" "0,0"
check "unmanaged: only the two inventory requests were added to the stream" \
    eq "$(redis_cli XLEN dadns:changes)" "$((stream_before + 2))"
check "unmanaged: its rows untouched" \
    eq "$(mysql_q "$REC_DB" "SELECT COUNT(*) FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = '$H'")" "$rows_before"
check "unmanaged: still served" pdns_serves "$H" 7

# --- deleting zones the store has no state for at all: the same guard ------------------------------
make_zone stray.test "$S" >"$ZONES_DIR/stray.test.db"
printf 'zone "stray.test" { type primary; file "%s"; };\n' "$ZONES_DIR/stray.test.db" >>"$INCLUDE_CONF"
rndc_cmd reconfig >/dev/null 2>&1 || true
check "stray zone: named serves it" wait_until 20 zone_serves stray.test "$S"
rec_once DADNS_RECONCILER_MAX_DELETE_PERCENT=10
check "stray zone: the guard trips (1 of 7 > 10%)" eq "$(rec_last .guard_tripped)" true
check "stray zone: the reason names the backend" \
    has "$(rec_last .guard_reason)" "backend bind would delete 1 of its 7 zones"
check "stray zone: nothing deleted on bind" eq "$(rec_last .deleted_on_backend.bind)" 0
check "stray zone: P reconciler:guard names the backend" \
    eq "$(redis_cli HGET dadns:reconciler:guard server)" "backend bind"
check "stray zone: still served" zone_serves stray.test "$S"
rec_once DADNS_RECONCILER_MAX_DELETE_PERCENT=10 -- --force
check "stray zone, forced: one delete pushed to bind" eq "$(rec_last .deleted_on_backend.bind)" 1
check "stray zone, forced: the guard is cleared" eq "$(redis_cli EXISTS dadns:reconciler:guard)" 0
check "writers settled" wait_until 30 settled
grep -v '^zone "stray.test" ' "$INCLUDE_CONF" >"$STACK_DIR/include.new" || true
cat "$STACK_DIR/include.new" >"$INCLUDE_CONF"
rm -f "$ZONES_DIR/stray.test.db"
rndc_cmd reconfig >/dev/null 2>&1 || true

# --- a backend holds a zone the store marks deleted ----------------------------------------------
check "writers settled" wait_until 30 settled
cp "$ZONES_DIR/a1.test.db" "$STACK_DIR/a1.saved"
grep '^zone "a1.test" ' "$INCLUDE_CONF" >"$STACK_DIR/a1.line"
da_lists da1 a2.test a3.test a4.test
check "delete a1.test from da1" delete_zone a1.test da1.example.net
check "a1.test gone everywhere" wait_until 30 gone_everywhere a1.test
check "writers settled" wait_until 30 settled
cp "$STACK_DIR/a1.saved" "$ZONES_DIR/a1.test.db"
cat "$STACK_DIR/a1.line" >>"$INCLUDE_CONF"
rndc_cmd reconfig >/dev/null 2>&1 || true
check "restored by hand: named serves a1.test again" wait_until 20 zone_serves a1.test "$S"
rec_once
check "tombstone held: deleted on bind only" \
    eq "$(rec_last '[.deleted_on_backend.bind, .deleted_on_backend.mysql] | @csv')" "1,0"
check "tombstone held: the reason is logged" rec_log_has 'deleting on backend.*zone=a1.test.*reason=tombstone'
check "tombstone held: not purged in the same pass" eq "$(rec_last .tombstones_purged)" 0
check "tombstone held: named no longer serves a1.test" wait_until 30 gone_everywhere a1.test

# --- tombstones purged after the retention -------------------------------------------------------
da_lists da3
check "delete c1.test from da3" delete_zone c1.test da3.example.net
check "c1.test gone everywhere" wait_until 30 gone_everywhere c1.test
check "writers settled" wait_until 30 settled
rec_once DADNS_RECONCILER_TOMBSTONE_RETENTION_S=0 -- --dry-run
check "purge, dry run: c1.test (and a1.test) would be purged" \
    eval '[ "$(rec_last .tombstones_purged)" -ge 1 ]'
check "purge, dry run: the tombstones stay" \
    eq "$(redis_zone_field c1.test deleted) $(redis_zone_field a1.test deleted)" "1 1"
rec_once DADNS_RECONCILER_TOMBSTONE_RETENTION_S=0
check "purge: exit 0" eq "$REC_RC" 0
check "purge: c1.test's hash is gone" eq "$(redis_cli EXISTS dadns:zone:c1.test)" 0
check "purge: gone from applied:bind" eq "$(redis_cli HEXISTS dadns:applied:bind c1.test)" 0
check "purge: gone from applied:mysql" eq "$(redis_cli HEXISTS dadns:applied:mysql c1.test)" 0
check "purge: a1.test's too, once bind dropped it" eq "$(redis_cli EXISTS dadns:zone:a1.test)" 0
check "purge: both counted" eq "$(rec_last .tombstones_purged)" 2
check "purge: live zones untouched" zone_live a2.test

# --- a backend whose inventory does not come ---------------------------------------------------
stack_stop writer-mysql
rec_once DADNS_RECONCILER_INVENTORY_TIMEOUT_S=3
check "writer-mysql down: pass exit 0" eq "$REC_RC" 0
check "writer-mysql down: mysql skipped, timed out" \
    has "$(rec_last .backends_skipped.mysql)" "timed out"
check "writer-mysql down: bind still compared" eq "$(rec_last .republished.bind)" 0
check "writer-mysql down: no mysql counts" eq "$(rec_last '.republished | has("mysql")')" false
stack_spawn_writer_mysql writer-mysql mysql
check "writer-mysql back" wait_until 30 eval 'stack_log_since_start writer-mysql | grep -q "consumer ready"'

# --- one pass at a time ------------------------------------------------------------------------
redis_cli SET dadns:reconciler:lock someone-else PX 30000 >/dev/null
rec_once
check "lock held elsewhere: exit 1" eq "$REC_RC" 1
check "lock held elsewhere: says so" rec_log_has 'another reconciler holds the lock'
check "lock held elsewhere: the other holder's lock kept" \
    eq "$(redis_cli GET dadns:reconciler:lock)" someone-else
redis_cli DEL dadns:reconciler:lock >/dev/null
rec_once -- --dry-run --force
check "usage: --dry-run with --force is refused (2)" eq "$REC_RC" 2

# --- the service: operator requests, /metrics, /readyz ---------------------------------------------
check "writers settled" wait_until 30 settled
rec_start
out="$(dadnsctl_cmd reconcile --wait 60 2>&1)" && rc=0 || rc=$?
check "dadnsctl reconcile --wait: exit 0" eq "$rc" 0
check "dadnsctl reconcile --wait: prints the pass" has "$out" "reconciler pass finished"
check "the request is removed" eq "$(redis_cli EXISTS dadns:reconciler:request)" 0
check "metrics: one ok run" eq "$(rec_metric 'dadns_reconciler_runs_total{result="ok"}')" 1
check "metrics: last success recorded" \
    eval '[ "$(rec_metric dadns_reconciler_last_success_timestamp_seconds)" -gt 0 ]'
check "metrics: guard not tripped" eq "$(rec_metric dadns_reconciler_guard_tripped)" 0
check "metrics: republished per backend" \
    eq "$(rec_metric 'dadns_reconciler_republished_total{backend="mysql"}')" 0
check "metrics: redis up" eq "$(rec_metric dadns_redis_up)" 1
check "readyz: ready" rec_ready
redis_cli SET dadns:reconciler:lock someone-else PX 30000 >/dev/null
dadnsctl_cmd reconcile >/dev/null 2>&1 || true
check "a request while another holds the lock: counted as skipped" \
    wait_until 20 eval '[ "$(rec_metric '"'"'dadns_reconciler_runs_total{result="skipped_locked"}'"'"')" -ge 1 ]'
check "... and the request stays queued" eq "$(redis_cli EXISTS dadns:reconciler:request)" 1
redis_cli DEL dadns:reconciler:lock >/dev/null
check "... then runs once the lock is free" \
    wait_until 20 eval '[ "$(redis_cli EXISTS dadns:reconciler:request)" = 0 ]'
check "two ok runs" wait_until 10 eval '[ "$(rec_metric '"'"'dadns_reconciler_runs_total{result="ok"}'"'"')" = 2 ]'
stack_stop reconciler
check "the service exits 0 on SIGTERM" eq "$STOP_RC" 0

e2e_finish
