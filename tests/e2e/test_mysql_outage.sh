#!/usr/bin/env bash
# test_mysql_outage.sh -- MariaDB dies in the middle of the stream (SIGKILL) under two
# writer-mysql backends (coredns_mysql and powerdns_mysql, two databases, two groups): while it
# is down nothing of either group is acknowledged or marked applied, the writers keep running,
# and once it is back on the same datadir every zone converges to exactly its latest version
# (state table, SOA serial, row counts), deletes included, with nothing lost or duplicated.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin_mysql out_cd out_pd
mariadb_load_pdns_schema out_pd
stack_writer_option retry_interval_s 1
stack_add_mysql_backend cdout coredns_mysql out_cd host= port= socket="$MARIADB_SOCK" # unix socket
stack_add_mysql_backend pdout powerdns_mysql out_pd
stack_start_writer_mysql writer-mysql-cdout cdout
stack_start_writer_mysql writer-mysql-pdout pdout

HOST=da1.example.net
T="$STACK_DIR/t"
mkdir -p "$T"
CD_ROWS=25 # make_mysql_zone: 23 records of the sample + wildcard + delegation
PD_ROWS=27 # the same + the empty non-terminals _domainkey and _tcp
declare -A LATEST=() # live zone -> serial of its latest push

push() { # push ZONE SERIAL
    make_mysql_zone "$1" "$2" >"$T/$1.db"
    da_push "$1" "$T/$1.db" "$HOST"
    [ "$HTTP_BODY" = "error=0" ] || {
        printf '#   push %s %s: %s %s\n' "$1" "$2" "$HTTP_CODE" "$HTTP_BODY"
        return 1
    }
    LATEST[$1]="$2"
}

both_converged() {
    mysql_converged out_cd "$1" && mysql_converged out_pd "$1"
}

all_converged() {
    local z
    for z in "$@"; do
        both_converged "$z" || return 1
    done
}

cd_count() {
    mysql_q out_cd "SELECT COUNT(*) FROM records r JOIN zones z ON z.id = r.zone_id
        WHERE z.zone_name = '$1.'"
}

pd_count() {
    mysql_q out_pd "SELECT COUNT(*) FROM records r JOIN domains d ON d.id = r.domain_id
        WHERE d.name = '$1'"
}

cd_soa_serial() {
    mysql_q out_cd "SELECT r.data FROM records r JOIN zones z ON z.id = r.zone_id
        WHERE z.zone_name = '$1.' AND r.type = 'SOA'" | awk '{ print $3 }' | tr '\n' ' '
}

pd_soa_serial() {
    mysql_q out_pd "SELECT r.content FROM records r JOIN domains d ON d.id = r.domain_id
        WHERE d.name = '$1' AND r.type = 'SOA'" | awk '{ print $3 }' | tr '\n' ' '
}

applied_snapshot() {
    { redis_cli HGETALL "dadns:applied:$1" | paste - - | LC_ALL=C sort; } 2>/dev/null
}

# --- a known set, applied --------------------------------------------------------------------
ZONES=()
for i in $(seq -w 1 12); do
    ZONES+=("o$i.test")
done
ok=0
for z in "${ZONES[@]}"; do
    push "$z" 1 && ok=$((ok + 1))
done
check "12 zones pushed" eq "$ok" 12
check "12 zones applied in both databases" wait_until 30 all_converged "${ZONES[@]}"
check "groups drained before the outage" \
    wait_until 30 eval 'group_drained cdout && group_drained pdout'

# --- MariaDB dies mid-stream -----------------------------------------------------------------
ok=0
for i in 01 02 03 04 05 06; do
    push "o$i.test" 2 && ok=$((ok + 1))
done
stack_kill mariadb
log_note "mariadbd killed (SIGKILL) right after 6 updates"
for i in 07 08 09 10 11 12; do
    push "o$i.test" 2 && ok=$((ok + 1))
done
for i in 01 02 03; do
    push "o$i.test" 3 && ok=$((ok + 1))
done
NEW=(n1.test n2.test n3.test n4.test)
for z in "${NEW[@]}"; do
    push "$z" 1 && ok=$((ok + 1))
done
check "19 pushes accepted by ingest during the outage" eq "$ok" 19
da_form "action=delete&select0=o12.test&hostname=$HOST&username=user1"
check "delete o12.test accepted during the outage" eq "$HTTP_BODY" "error=0"
unset "LATEST[o12.test]"

sleep 1 # a commit that raced the kill has had time to be recorded
SNAP_CD="$(applied_snapshot cdout)"
SNAP_PD="$(applied_snapshot pdout)"
check "cdout has been delivered every entry" wait_until 30 group_read_all cdout
check "pdout has been delivered every entry" wait_until 30 group_read_all pdout
check "cdout: entries pending while MariaDB is down (XPENDING > 0)" \
    eval '[ "$(group_pending cdout)" -gt 0 ]'
check "pdout: entries pending while MariaDB is down (XPENDING > 0)" \
    eval '[ "$(group_pending pdout)" -gt 0 ]'
sleep 3 # three retry intervals
check "cdout: applied versions did not move while MariaDB is down" \
    eq "$(applied_snapshot cdout)" "$SNAP_CD"
check "pdout: applied versions did not move while MariaDB is down" \
    eq "$(applied_snapshot pdout)" "$SNAP_PD"
check "cdout: still pending after retries" eval '[ "$(group_pending cdout)" -gt 0 ]'
check "pdout: still pending after retries" eval '[ "$(group_pending pdout)" -gt 0 ]'
check "n1.test (pushed while down) not marked applied by cdout" \
    eq "$(redis_cli HGET dadns:applied:cdout n1.test)" ""
check "n1.test (pushed while down) not marked applied by pdout" \
    eq "$(redis_cli HGET dadns:applied:pdout n1.test)" ""
check "o12.test delete not marked applied by cdout" \
    eq "$(redis_cli HGET dadns:applied:cdout o12.test)" "$(printf '%s\n' "$SNAP_CD" | awk '$1 == "o12.test" { print $2 }')"
check "writers keep running while MariaDB is down" \
    eval 'stack_alive writer-mysql-cdout && stack_alive writer-mysql-pdout'

# --- MariaDB back on the same datadir --------------------------------------------------------
stack_start_mariadb
log_note "mariadbd restarted on the same datadir"
LIVE=("${!LATEST[@]}")
check "every live zone converges to its latest version in both databases" \
    wait_until 30 all_converged "${LIVE[@]}"
check "o12.test delete converges in both databases (state deleted=1)" \
    wait_until 30 both_converged o12.test
check "groups drained after the outage" wait_until 30 eval 'group_drained cdout && group_drained pdout'

bad_cd="" bad_pd=""
for z in $(printf '%s\n' "${LIVE[@]}" | LC_ALL=C sort); do
    s="${LATEST[$z]}"
    [ "$(mysql_state out_cd "$z" | awk '{ print $2 " " $3 }')" = "$s 0" ] || bad_cd="$bad_cd $z:state"
    [ "$(mysql_state out_pd "$z" | awk '{ print $2 " " $3 }')" = "$s 0" ] || bad_pd="$bad_pd $z:state"
    [ "$(cd_count "$z")" = "$CD_ROWS" ] || bad_cd="$bad_cd $z:rows=$(cd_count "$z")"
    [ "$(pd_count "$z")" = "$PD_ROWS" ] || bad_pd="$bad_pd $z:rows=$(pd_count "$z")"
    [ "$(cd_soa_serial "$z")" = "$s " ] || bad_cd="$bad_cd $z:soa=$(cd_soa_serial "$z")"
    [ "$(pd_soa_serial "$z")" = "$s " ] || bad_pd="$bad_pd $z:soa=$(pd_soa_serial "$z")"
    [ "$(redis_cli HGET dadns:applied:cdout "$z")" = "$(redis_zone_field "$z" version)" ] ||
        bad_cd="$bad_cd $z:applied"
    [ "$(redis_cli HGET dadns:applied:pdout "$z")" = "$(redis_zone_field "$z" version)" ] ||
        bad_pd="$bad_pd $z:applied"
done
check "coredns: every live zone at its latest serial with exactly $CD_ROWS rows" eq "$bad_cd" ""
check "powerdns: every live zone at its latest serial with exactly $PD_ROWS rows" eq "$bad_pd" ""
n_live="${#LIVE[@]}"
check "coredns: $n_live zone rows, $((n_live * CD_ROWS)) records in all (nothing duplicated)" \
    eq "$(mysql_q out_cd "SELECT (SELECT COUNT(*) FROM zones), (SELECT COUNT(*) FROM records)")" \
    "$n_live	$((n_live * CD_ROWS))"
check "powerdns: $n_live domains, $((n_live * PD_ROWS)) records in all (nothing duplicated)" \
    eq "$(mysql_q out_pd "SELECT (SELECT COUNT(*) FROM domains), (SELECT COUNT(*) FROM records)")" \
    "$n_live	$((n_live * PD_ROWS))"
check "o12.test gone from both databases" eq "$(cd_count o12.test) $(pd_count o12.test)" "0 0"
check "state tables: o12.test deleted=1" \
    eq "$(mysql_state out_cd o12.test | awk '{ print $3 }') $(mysql_state out_pd o12.test | awk '{ print $3 }')" "1 1"

# --- and the writers keep working normally ---------------------------------------------------
push after.test 9
check "a push after the recovery converges" wait_until 30 both_converged after.test

# --- a clean MariaDB restart while the writers are idle --------------------------------------
stack_stop mariadb 60
check "mariadbd stopped cleanly" eq "$STOP_RC" 0
stack_start_mariadb
push after.test 10
check "a push after an idle restart converges (stale connection replaced)" \
    wait_until 30 both_converged after.test
check "after.test at serial 10 in both" eq \
    "$(mysql_state out_cd after.test | awk '{ print $2 }') $(mysql_state out_pd after.test | awk '{ print $2 }')" \
    "10 10"
check "writers still running" eval 'stack_alive writer-mysql-cdout && stack_alive writer-mysql-pdout'

e2e_finish
