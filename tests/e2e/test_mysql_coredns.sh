#!/usr/bin/env bash
# test_mysql_coredns.sh -- dadns-writer-mysql, CoreDNS mysql_extend format, checked with SQL
# (CoreDNS cannot be built here, and its cache would hide deletes anyway): the rows of the sample
# DirectAdmin push against the reference encoding table (hostname relative, @ for the apex,
# every name in data absolute with its dot, online=1, the zone row owned by dadns), update,
# unchanged re-push, delete, and a zone inserted by hand that dadns must never touch.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin_mysql coredns_a
stack_writer_option retry_interval_s 1
stack_add_mysql_backend coredns coredns_mysql coredns_a
stack_start_writer_mysql writer-mysql-coredns coredns

Z=cd.test
HOST=da1.example.net
S1=2025031402
S2=2025031403
T="$STACK_DIR/t"
mkdir -p "$T"
DKIM="$(sample_dkim)"

# cd_rows ZONE - hostname type data ttl online of ZONE's records, tab-separated, sorted.
cd_rows() {
    mysql_q coredns_a "SELECT r.hostname, r.type, r.data, r.ttl, r.online FROM records r
        JOIN zones z ON z.id = r.zone_id WHERE z.zone_name = '$1.'" | LC_ALL=C sort
}

# cd_expected ZONE SERIAL [v2] - the rows of make_mysql_zone ZONE SERIAL per the reference
# encoding table; v2 = the update (www A 192.0.2.11, pop removed).
cd_expected() {
    local z="$1" s="$2" www=192.0.2.10 n
    [ "${3:-}" = v2 ] && www=192.0.2.11
    {
        printf '@\tSOA\tns1.hostingco.example. hostmaster.%s. %s 3600 3600 1209600 86400\t3600\t1\n' "$z" "$s"
        printf '@\tNS\tns1.hostingco.example.\t3600\t1\n'
        printf '@\tNS\tns2.hostingco.example.\t3600\t1\n'
        printf '@\tA\t192.0.2.10\t3600\t1\n'
        for n in ftp mail pop smtp; do
            [ "$n" = pop ] && [ "${3:-}" = v2 ] && continue
            printf '%s\tA\t192.0.2.10\t3600\t1\n' "$n"
        done
        printf 'www\tA\t%s\t3600\t1\n' "$www"
        printf '@\tAAAA\t2001:db8:10::10\t3600\t1\n'
        printf 'www\tAAAA\t2001:db8:10::10\t3600\t1\n'
        printf 'shop\tCNAME\t%s.\t3600\t1\n' "$z"
        printf 'webmail\tCNAME\tmail.%s.\t3600\t1\n' "$z"
        printf '@\tMX\t10 mail.%s.\t3600\t1\n' "$z"
        printf '@\tMX\t20 mx2.backupmx.example.\t3600\t1\n'
        printf '@\tTXT\t"v=spf1 a mx ip4:192.0.2.10 ip6:2001:db8:10::10 ~all"\t3600\t1\n'
        printf '_dmarc\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:dmarc@%s"\t3600\t1\n' "$z"
        printf 'x._domainkey\tTXT\t%s\t3600\t1\n' "$DKIM"
        printf '_sip._tcp\tSRV\t10 60 5060 sip.%s.\t3600\t1\n' "$z"
        printf '_autodiscover._tcp\tSRV\t0 0 443 mail.%s.\t3600\t1\n' "$z"
        printf 'sip\tA\t192.0.2.20\t3600\t1\n'
        printf '@\tCAA\t0 issue "letsencrypt.org"\t3600\t1\n'
        printf '@\tCAA\t0 iodef "mailto:hostmaster@%s"\t3600\t1\n' "$z"
        printf '*\tA\t192.0.2.99\t3600\t1\n'
        printf 'sub\tNS\tns.other.net.\t3600\t1\n'
    } | LC_ALL=C sort
}

zone_v2() {
    make_mysql_zone "$1" "$2" |
        sed -e 's/^www\t3600\tIN\tA\t192\.0\.2\.10$/www\t3600\tIN\tA\t192.0.2.11/' -e '/^pop\t/d'
}

zone_id() {
    mysql_q coredns_a "SELECT id FROM zones WHERE zone_name = '$1.'"
}

# --- schema (init_schema) --------------------------------------------------------------------
check "init_schema: tables zones, records, dadns_state" \
    eq "$(mysql_q coredns_a "SHOW TABLES" | LC_ALL=C sort | tr '\n' ' ')" "dadns_state records zones "
check "zones has zone_name and managed_by" eq "$(mysql_q coredns_a "SELECT COUNT(*) FROM
    information_schema.columns WHERE table_schema = 'coredns_a' AND table_name = 'zones'
    AND column_name IN ('id', 'zone_name', 'managed_by')")" 3
check "records has the plugin's columns" eq "$(mysql_q coredns_a "SELECT COUNT(*) FROM
    information_schema.columns WHERE table_schema = 'coredns_a' AND table_name = 'records'
    AND column_name IN ('id', 'zone_id', 'hostname', 'type', 'data', 'ttl', 'online')")" 7

# --- first push ------------------------------------------------------------------------------
make_mysql_zone "$Z" "$S1" >"$T/v1.db"
da_push "$Z" "$T/v1.db" "$HOST"
check "push $Z: error=0" eq "$HTTP_BODY" "error=0"
check "state table reaches the Redis version of $Z" wait_until 30 mysql_converged coredns_a "$Z"
check "zones row: '$Z.' (lowercase, trailing dot), managed_by dadns" \
    eq "$(mysql_q coredns_a "SELECT zone_name, managed_by FROM zones WHERE zone_name LIKE '$Z%'")" \
    "$Z.	dadns"
check "records: exactly the expected rows (hostname type data ttl online)" \
    eq "$(cd_rows "$Z")" "$(cd_expected "$Z" "$S1")"
check "no '@' and no relative name inside data of name-bearing types" eq "$(mysql_q coredns_a \
    "SELECT COUNT(*) FROM records WHERE type IN ('NS', 'CNAME', 'MX', 'SRV') AND
     (data LIKE '%@%' OR data NOT LIKE '%.')")" 0
check "state row: Redis version, serial $S1, not deleted" \
    eq "$(mysql_state coredns_a "$Z")" "$(redis_zone_field "$Z" version) $S1 0"
check "state digest = the Redis digest (SHA1 of the zone text)" eq "$(mysql_q coredns_a \
    "SELECT digest FROM dadns_state WHERE zone IN ('$Z', '$Z.')")" "$(redis_zone_field "$Z" digest)"
check "state updated = now, in UTC" eq "$(mysql_q coredns_a "SELECT ABS(TIMESTAMPDIFF(SECOND,
    updated, UTC_TIMESTAMP())) < 120 FROM dadns_state WHERE zone IN ('$Z', '$Z.')")" 1
check "group coredns drained" wait_until 30 group_drained coredns
check "applied:coredns has $Z at its version" \
    eq "$(redis_cli HGET dadns:applied:coredns "$Z")" "$(redis_zone_field "$Z" version)"

# --- a second zone that must survive everything done to the first ---------------------------
K=keep.test
make_mysql_zone "$K" 5 >"$T/k.db"
da_push "$K" "$T/k.db" "$HOST"
check "push $K: error=0" eq "$HTTP_BODY" "error=0"
check "$K converges" wait_until 30 mysql_converged coredns_a "$K"
check "$K: exactly its expected rows" eq "$(cd_rows "$K")" "$(cd_expected "$K" 5)"

# --- update ----------------------------------------------------------------------------------
ZID="$(zone_id "$Z")"
zone_v2 "$Z" "$S2" >"$T/v2.db"
da_push "$Z" "$T/v2.db" "$HOST"
check "update: error=0" eq "$HTTP_BODY" "error=0"
check "update: state table reaches the new version" wait_until 30 mysql_converged coredns_a "$Z"
check "update: exactly the new rows, nothing left over" eq "$(cd_rows "$Z")" "$(cd_expected "$Z" "$S2" v2)"
check "update: the zone row kept its id" eq "$(zone_id "$Z")" "$ZID"
check "update: state serial $S2" eq "$(mysql_state coredns_a "$Z" | awk '{ print $2 }')" "$S2"
check "update: $K untouched" eq "$(cd_rows "$K")" "$(cd_expected "$K" 5)"

# --- the same content again (refresh: verify, nothing duplicated) ----------------------------
da_push "$Z" "$T/v2.db" "$HOST"
check "identical re-push: error=0" eq "$HTTP_BODY" "error=0"
check "identical re-push: processed (group drained)" wait_until 30 group_drained coredns
check "identical re-push: rows unchanged, no duplicates" eq "$(cd_rows "$Z")" "$(cd_expected "$Z" "$S2" v2)"

# A row lost behind dadns's back is put back by the verify of an identical re-push (change.h).
mysql_q coredns_a "DELETE FROM records WHERE zone_id = $ZID AND hostname = 'www' AND type = 'A'"
da_push "$Z" "$T/v2.db" "$HOST"
check "re-push after a row was lost: error=0" eq "$HTTP_BODY" "error=0"
check "verify repairs the lost row" wait_until 30 eval \
    '[ "$(cd_rows "$Z")" = "$(cd_expected "$Z" "$S2" v2)" ]'

# --- delete ----------------------------------------------------------------------------------
ZID="$(zone_id "$Z")"
da_form "action=delete&select0=$Z&hostname=$HOST&username=user1"
check "delete: error=0" eq "$HTTP_BODY" "error=0"
check "delete: state row deleted=1 at the tombstone version" \
    wait_until 30 mysql_converged coredns_a "$Z"
check "delete: zones row gone" eq "$(mysql_q coredns_a "SELECT COUNT(*) FROM zones WHERE zone_name = '$Z.'")" 0
check "delete: records of the zone gone" \
    eq "$(mysql_q coredns_a "SELECT COUNT(*) FROM records WHERE zone_id = ${ZID:-0}")" 0
check "delete: $K untouched" eq "$(cd_rows "$K")" "$(cd_expected "$K" 5)"
check "delete: no orphan record" eq "$(mysql_q coredns_a "SELECT COUNT(*) FROM records r
    LEFT JOIN zones z ON z.id = r.zone_id WHERE z.id IS NULL")" 0

# push again after the delete: a fresh zone row
make_mysql_zone "$Z" 2025031500 >"$T/v3.db"
da_push "$Z" "$T/v3.db" "$HOST"
check "re-create after delete: error=0" eq "$HTTP_BODY" "error=0"
check "re-create: converges" wait_until 30 mysql_converged coredns_a "$Z"
check "re-create: exactly the expected rows" eq "$(cd_rows "$Z")" "$(cd_expected "$Z" 2025031500)"
check "re-create: state not deleted" eq "$(mysql_state coredns_a "$Z" | awk '{ print $3 }')" 0

# --- a zone inserted by hand (not managed by dadns) ------------------------------------------
H=hand.test
mysql_q coredns_a "INSERT INTO zones (zone_name, managed_by) VALUES ('$H.', 'manual');
SET @z = LAST_INSERT_ID();
INSERT INTO records (zone_id, hostname, type, data, ttl, online) VALUES
 (@z, '@', 'SOA', 'ns1.$H. hostmaster.$H. 7 3600 600 1209600 300', 3600, 1),
 (@z, '@', 'NS', 'ns1.example.net.', 3600, 1),
 (@z, 'www', 'A', '192.0.2.77', 3600, 1)"
HAND="$(cd_rows "$H")"
HAND_ZONE="$(mysql_q coredns_a "SELECT id, zone_name, managed_by FROM zones WHERE zone_name = '$H.'")"
check "hand zone inserted" eq "$(printf '%s\n' "$HAND" | wc -l)" 3

make_mysql_zone "$H" 100 >"$T/h.db"
da_push "$H" "$T/h.db" "$HOST"
check "push over the hand zone: ingest accepts it (error=0)" eq "$HTTP_BODY" "error=0"
check "the writer refused it at once into the dead letters (permanent: not dadns's zone)" \
    wait_until 30 eval 'group_read_all coredns && [ "$(redis_cli XLEN dadns:dead:coredns)" -ge 1 ]'
check "the dead letter names the zone and says permanent" \
    eval 'redis_cli XRANGE dadns:dead:coredns - + | tr "\n" " " | grep -q "zone $H .*permanent 1"'
check "hand zone rows untouched by the push" eq "$(cd_rows "$H")" "$HAND"
check "hand zone row untouched by the push (id, name, managed_by)" eq "$(mysql_q coredns_a \
    "SELECT id, zone_name, managed_by FROM zones WHERE zone_name = '$H.'")" "$HAND_ZONE"
check "refusal logged with a reason naming the zone" \
    eval 'grep -i "$H" "$STACK_DIR/logs/writer-mysql-coredns.log" | grep -qi "manage"'

da_form "action=delete&select0=$H&hostname=$HOST&username=user1"
check "delete of the hand zone: error=0" eq "$HTTP_BODY" "error=0"
check "the writer read the delete" wait_until 30 group_read_all coredns
wait_until 10 group_drained coredns || true
log_note "after the delete of $H: group coredns pending=$(group_pending coredns)," \
    "state row: '$(mysql_state coredns_a "$H")'"
check "hand zone rows untouched by the delete" eq "$(cd_rows "$H")" "$HAND"
check "hand zone row untouched by the delete" eq "$(mysql_q coredns_a \
    "SELECT id, zone_name, managed_by FROM zones WHERE zone_name = '$H.'")" "$HAND_ZONE"
check "$K still untouched" eq "$(cd_rows "$K")" "$(cd_expected "$K" 5)"
check "writer still running" stack_alive writer-mysql-coredns

e2e_finish
