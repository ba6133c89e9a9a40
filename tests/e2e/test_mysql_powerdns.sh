#!/usr/bin/env bash
# test_mysql_powerdns.sh -- dadns-writer-mysql, PowerDNS gmysql format, end to end: DirectAdmin
# (curl) pushes through ingest, two powerdns_mysql backend instances (two databases, two writer
# processes, two consumer groups) converge, and the pdns_server reading the first one serves
# every record type right (SOA serial, A, MX preference, split DKIM TXT, SRV, CAA, wildcard,
# empty non-terminals, delegation); update, delete, and a domain dadns did not create.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin_mysql pdns_a pdns_b
stack_start_pdns pdns_a
stack_writer_option retry_interval_s 1
stack_add_mysql_backend pdns1 powerdns_mysql pdns_a \
    post_commit="$PDNS_PURGE_CMD" post_create="$PDNS_REDISCOVER_CMD"
# pdns2: its password only in the environment, its tables from the Debian schema file
stack_add_mysql_backend pdns2 powerdns_mysql pdns_b password=
mariadb_load_pdns_schema pdns_b
stack_start_writer_mysql writer-mysql-pdns1 pdns1 DADNS_WRITER_CONSUMER_NAME=w1
stack_start_writer_mysql writer-mysql-pdns2 pdns2 DADNS_WRITER_CONSUMER_NAME=w2 \
    DADNS_DNS_BACKENDS_PDNS2_PASSWORD="$MARIADB_PASS"
log_note "pdns_server on 127.0.0.1:$PDNS_PORT reads pdns_a"

Z=pd.test
HOST=da1.example.net
S1=2025031402
S2=2025031403
T="$STACK_DIR/t"
mkdir -p "$T"
DKIM="$(sample_dkim)"

# pd_rows DB ZONE - the records of ZONE's domain in DB: name type prio content ttl auth disabled,
# tab-separated, sorted; prio and ttl are "-" for empty non-terminals (type NULL).
pd_rows() {
    mysql_q "$1" "SELECT r.name, IFNULL(r.type, 'NULL'), IF(r.type IS NULL, '-', r.prio),
        IFNULL(r.content, 'NULL'), IF(r.type IS NULL, '-', IFNULL(r.ttl, 'NULL')), r.auth,
        r.disabled FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = '$2'" |
        LC_ALL=C sort
}

# pd_expected ZONE SERIAL [v2] - the rows of make_mysql_zone ZONE SERIAL per the reference
# encoding table; v2 = the update (www A 192.0.2.11, pop removed).
pd_expected() {
    local z="$1" s="$2" www=192.0.2.10 n
    [ "${3:-}" = v2 ] && www=192.0.2.11
    {
        printf '%s\tSOA\t0\tns1.hostingco.example hostmaster.%s %s 3600 3600 1209600 86400\t3600\t1\t0\n' "$z" "$z" "$s"
        printf '%s\tNS\t0\tns1.hostingco.example\t3600\t1\t0\n' "$z"
        printf '%s\tNS\t0\tns2.hostingco.example\t3600\t1\t0\n' "$z"
        printf '%s\tA\t0\t192.0.2.10\t3600\t1\t0\n' "$z"
        for n in ftp mail pop smtp; do
            [ "$n" = pop ] && [ "${3:-}" = v2 ] && continue
            printf '%s.%s\tA\t0\t192.0.2.10\t3600\t1\t0\n' "$n" "$z"
        done
        printf 'www.%s\tA\t0\t%s\t3600\t1\t0\n' "$z" "$www"
        printf '%s\tAAAA\t0\t2001:db8:10::10\t3600\t1\t0\n' "$z"
        printf 'www.%s\tAAAA\t0\t2001:db8:10::10\t3600\t1\t0\n' "$z"
        printf 'shop.%s\tCNAME\t0\t%s\t3600\t1\t0\n' "$z" "$z"
        printf 'webmail.%s\tCNAME\t0\tmail.%s\t3600\t1\t0\n' "$z" "$z"
        printf '%s\tMX\t10\tmail.%s\t3600\t1\t0\n' "$z" "$z"
        printf '%s\tMX\t20\tmx2.backupmx.example\t3600\t1\t0\n' "$z"
        printf '%s\tTXT\t0\t"v=spf1 a mx ip4:192.0.2.10 ip6:2001:db8:10::10 ~all"\t3600\t1\t0\n' "$z"
        printf '_dmarc.%s\tTXT\t0\t"v=DMARC1; p=quarantine; rua=mailto:dmarc@%s"\t3600\t1\t0\n' "$z" "$z"
        printf 'x._domainkey.%s\tTXT\t0\t%s\t3600\t1\t0\n' "$z" "$DKIM"
        printf '_domainkey.%s\tNULL\t-\tNULL\t-\t1\t0\n' "$z"
        printf '_sip._tcp.%s\tSRV\t10\t60 5060 sip.%s\t3600\t1\t0\n' "$z" "$z"
        printf '_autodiscover._tcp.%s\tSRV\t0\t0 443 mail.%s\t3600\t1\t0\n' "$z" "$z"
        printf '_tcp.%s\tNULL\t-\tNULL\t-\t1\t0\n' "$z"
        printf 'sip.%s\tA\t0\t192.0.2.20\t3600\t1\t0\n' "$z"
        printf '%s\tCAA\t0\t0 issue "letsencrypt.org"\t3600\t1\t0\n' "$z"
        printf '%s\tCAA\t0\t0 iodef "mailto:hostmaster@%s"\t3600\t1\t0\n' "$z" "$z"
        printf '*.%s\tA\t0\t192.0.2.99\t3600\t1\t0\n' "$z"
        printf 'sub.%s\tNS\t0\tns.other.net\t3600\t0\t0\n' "$z"
    } | LC_ALL=C sort
}

# zone_v2 ZONE SERIAL - the update: www A 192.0.2.11, pop removed.
zone_v2() {
    make_mysql_zone "$1" "$2" |
        sed -e 's/^www\t3600\tIN\tA\t192\.0\.2\.10$/www\t3600\tIN\tA\t192.0.2.11/' -e '/^pop\t/d'
}

both_converged() {
    mysql_converged pdns_a "$1" && mysql_converged pdns_b "$1"
}

# answer_empty NAME TYPE - pdns answers NOERROR with an empty answer section.
answer_empty() {
    local out
    out="$(pdns_dig "$1" "$2")"
    has "$out" "status: NOERROR" && has "$out" "ANSWER: 0,"
}

# --- schema ----------------------------------------------------------------------------------
check "init_schema: state table dadns_state created in pdns_a" \
    eq "$(mysql_q pdns_a "SHOW TABLES LIKE 'dadns_state'")" dadns_state
check "init_schema: state table dadns_state created in pdns_b" \
    eq "$(mysql_q pdns_b "SHOW TABLES LIKE 'dadns_state'")" dadns_state
check "groups pdns1 and pdns2 exist" eq "$(redis_cli XINFO GROUPS dadns:changes |
    awk 'p == "name" { print } { p = $0 }' | LC_ALL=C sort | tr '\n' ' ')" "pdns1 pdns2 "

# --- first push ------------------------------------------------------------------------------
make_mysql_zone "$Z" "$S1" >"$T/v1.db"
da_push "$Z" "$T/v1.db" "$HOST"
check "push $Z: error=0" eq "$HTTP_BODY" "error=0"
check "pdns serves $Z serial $S1" wait_until 30 pdns_serves "$Z" "$S1"
check "both databases converge on $Z" wait_until 30 both_converged "$Z"

check "SOA" eq "$(pdns_short "$Z" SOA)" \
    "ns1.hostingco.example. hostmaster.$Z. $S1 3600 3600 1209600 86400"
check "NS" eq "$(pdns_short "$Z" NS)" "ns1.hostingco.example.
ns2.hostingco.example."
check "A at the apex" eq "$(pdns_short "$Z" A)" 192.0.2.10
check "A www" eq "$(pdns_short "www.$Z" A)" 192.0.2.10
check "AAAA www" eq "$(pdns_short "www.$Z" AAAA)" 2001:db8:10::10
check "MX with the right preferences" eq "$(pdns_short "$Z" MX)" "10 mail.$Z.
20 mx2.backupmx.example."
check "CNAME relative target expanded" eq "$(pdns_dig "webmail.$Z" CNAME +short)" "mail.$Z."
check "CNAME to the apex" eq "$(pdns_dig "shop.$Z" CNAME +short)" "$Z."
check "TXT SPF" eq "$(pdns_short "$Z" TXT)" '"v=spf1 a mx ip4:192.0.2.10 ip6:2001:db8:10::10 ~all"'
check "TXT DKIM: the two quoted strings, joined right" eq "$(pdns_short "x._domainkey.$Z" TXT)" "$DKIM"
check "TXT DMARC" eq "$(pdns_short "_dmarc.$Z" TXT)" "\"v=DMARC1; p=quarantine; rua=mailto:dmarc@$Z\""
check "SRV _sip._tcp" eq "$(pdns_short "_sip._tcp.$Z" SRV)" "10 60 5060 sip.$Z."
check "SRV _autodiscover._tcp (priority 0)" eq "$(pdns_short "_autodiscover._tcp.$Z" SRV)" \
    "0 0 443 mail.$Z."
check "CAA" eq "$(pdns_short "$Z" CAA)" "0 iodef \"mailto:hostmaster@$Z\"
0 issue \"letsencrypt.org\""
check "wildcard: any-name.$Z A" eq "$(pdns_short "any-name.$Z" A)" 192.0.2.99
check "wildcard does not shadow www" eq "$(pdns_short "www.$Z" A)" 192.0.2.10
check "empty non-terminal _domainkey.$Z: NOERROR, no answer (not NXDOMAIN, not the wildcard)" \
    answer_empty "_domainkey.$Z" A
check "empty non-terminal _tcp.$Z: NOERROR, no answer" answer_empty "_tcp.$Z" A
check "delegation: referral to ns.other.net for host.sub.$Z" \
    eval 'pdns_dig "host.sub.$Z" A | grep -Eq "^sub\.$Z\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns\.other\.net\.\$"'

check "SQL pdns_a: exactly the expected rows (reference encoding)" \
    eq "$(pd_rows pdns_a "$Z")" "$(pd_expected "$Z" "$S1")"
check "SQL pdns_b: exactly the expected rows" eq "$(pd_rows pdns_b "$Z")" "$(pd_expected "$Z" "$S1")"
check "SQL: domain row NATIVE, name without dot" \
    eq "$(mysql_q pdns_a "SELECT name, type FROM domains WHERE name LIKE '$Z%'")" "$Z	NATIVE"
log_note "domains.account of $Z: $(mysql_q pdns_a "SELECT IFNULL(account, 'NULL') FROM domains WHERE name = '$Z'")"
check "SQL: state row of $Z = Redis version, serial, not deleted" \
    eq "$(mysql_state pdns_a "$Z")" "$(redis_zone_field "$Z" version) $S1 0"
check "post_commit ran: pdns got a purge of '$Z\$'" \
    eval 'stack_log_since_start pdns | grep -qF "Cache clear request for '"'$Z\$'"'"'
check "post_create ran: pdns got a rediscover" \
    eval 'stack_log_since_start pdns | grep -q "Rediscovery was requested"'

# --- update ----------------------------------------------------------------------------------
zone_v2 "$Z" "$S2" >"$T/v2.db"
da_push "$Z" "$T/v2.db" "$HOST"
check "update: error=0" eq "$HTTP_BODY" "error=0"
check "update: pdns serves serial $S2" wait_until 30 pdns_serves "$Z" "$S2"
check "update: both databases converge" wait_until 30 both_converged "$Z"
check "update: www A changed" eq "$(pdns_short "www.$Z" A)" 192.0.2.11
check "update: pop removed (now the wildcard answers)" eq "$(pdns_short "pop.$Z" A)" 192.0.2.99
check "update SQL pdns_a: exactly the new rows, nothing left over" \
    eq "$(pd_rows pdns_a "$Z")" "$(pd_expected "$Z" "$S2" v2)"
check "update SQL pdns_b: exactly the new rows" eq "$(pd_rows pdns_b "$Z")" "$(pd_expected "$Z" "$S2" v2)"
check "update: still one domain row" eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM domains WHERE name = '$Z'")" 1

# --- TXT escapes: quotes, backslash, non-ASCII (tables are latin1: \DDD) --------------------
E=esc.test
{
    make_mysql_zone "$E" 1
    printf 'txt\t3600\tIN\tTXT\t"caf\303\251 \\"q\\" back\\\\slash"\n'
} >"$T/esc.db"
da_push "$E" "$T/esc.db" "$HOST"
check "push $E (UTF-8 and escapes in a TXT): error=0" eq "$HTTP_BODY" "error=0"
check "$E served" wait_until 30 pdns_serves "$E" 1
check "TXT content in SQL: ASCII, \\DDD for the UTF-8 octets, \\\" and \\\\ kept" \
    eq "$(mysql_q pdns_a "SELECT content FROM records WHERE name = 'txt.$E' AND type = 'TXT'")" \
    '"caf\195\169 \"q\" back\\slash"'
check "TXT served with the same octets" eq "$(pdns_short "txt.$E" TXT)" '"caf\195\169 \"q\" back\\slash"'
check "no ordername written (no DNSSEC)" \
    eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM records WHERE ordername IS NOT NULL")" 0

# --- several zones, two groups ---------------------------------------------------------------
for i in 1 2 3 4 5; do
    make_mysql_zone "m$i.$Z" "$i" >"$T/m$i.db"
    da_push "m$i.$Z" "$T/m$i.db" "$HOST"
    check "push m$i.$Z: error=0" eq "$HTTP_BODY" "error=0"
done
for i in 1 2 3 4 5; do
    check "m$i.$Z: both databases converge" wait_until 30 both_converged "m$i.$Z"
    check "m$i.$Z: pdns serves serial $i" wait_until 30 pdns_serves "m$i.$Z" "$i"
    check "m$i.$Z: same rows in pdns_a and pdns_b" eq "$(pd_rows pdns_a "m$i.$Z")" "$(pd_rows pdns_b "m$i.$Z")"
    check "m$i.$Z: 27 rows" eq "$(pd_rows pdns_b "m$i.$Z" | wc -l)" 27
done
check "group pdns1 drained (all read and acked)" wait_until 30 group_drained pdns1
check "group pdns2 drained (all read and acked)" wait_until 30 group_drained pdns2
check "applied:pdns1 has $Z at its version" \
    eq "$(redis_cli HGET dadns:applied:pdns1 "$Z")" "$(redis_zone_field "$Z" version)"
check "applied:pdns2 has $Z at its version" \
    eq "$(redis_cli HGET dadns:applied:pdns2 "$Z")" "$(redis_zone_field "$Z" version)"

# --- delete ----------------------------------------------------------------------------------
DID="$(mysql_q pdns_a "SELECT id FROM domains WHERE name = '$Z'")"
da_form "action=delete&select0=$Z&hostname=$HOST&username=user1"
check "delete: error=0" eq "$HTTP_BODY" "error=0"
check "delete: pdns no longer serves $Z (REFUSED/NXDOMAIN)" wait_until 30 pdns_not_served "$Z"
check "delete: both state tables say deleted at the tombstone version" wait_until 30 both_converged "$Z"
check "delete SQL pdns_a: domain row gone" \
    eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM domains WHERE name = '$Z'")" 0
check "delete SQL pdns_a: records of the domain id gone" \
    eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM records WHERE domain_id = ${DID:-0}")" 0
check "delete SQL pdns_a: no record named $Z or below left (except m1-5)" \
    eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM records WHERE (name = '$Z' OR name LIKE '%.$Z')
        AND name NOT LIKE '%m_.$Z'")" 0
check "delete SQL pdns_b: domain and records gone" \
    eq "$(mysql_q pdns_b "SELECT (SELECT COUNT(*) FROM domains WHERE name = '$Z') +
        (SELECT COUNT(*) FROM records WHERE name = '$Z' OR name = 'www.$Z')")" 0
check "delete: state row deleted=1 with the tombstone version" \
    eq "$(mysql_state pdns_b "$Z" | awk '{ print $1 " " $3 }')" "$(redis_zone_field "$Z" version) 1"
check "delete: the other zones stay (m1 still served)" pdns_serves "m1.$Z" 1
check "delete: m1..m5 rows intact in pdns_a" \
    eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM records WHERE name LIKE '%m_.$Z'")" 135

# --- a domain dadns did not create -----------------------------------------------------------
H=handpd.test
mysql_q pdns_a "INSERT INTO domains (name, type) VALUES ('$H', 'NATIVE');
SET @d = LAST_INSERT_ID();
INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) VALUES
 (@d, '$H', 'SOA', 'ns1.$H hostmaster.$H 7 3600 600 1209600 300', 3600, 0, 0, 1),
 (@d, '$H', 'NS', 'ns1.example.net', 3600, 0, 0, 1),
 (@d, 'www.$H', 'A', '192.0.2.77', 3600, 0, 0, 1)"
HAND_ROWS="$(pd_rows pdns_a "$H")"
check "hand domain served before" wait_until 10 pdns_serves "$H" 7
make_mysql_zone "$H" 100 >"$T/h.db"
da_push "$H" "$T/h.db" "$HOST"
check "push over the hand domain: ingest accepts it (error=0)" eq "$HTTP_BODY" "error=0"
check "pdns2 creates it in pdns_b" wait_until 30 mysql_converged pdns_b "$H"
check "pdns1 refused the push at once into the dead letters (permanent)" \
    wait_until 30 eval 'group_read_all pdns1 && [ "$(redis_cli XLEN dadns:dead:pdns1)" -ge 1 ]'
check "hand domain rows untouched by the push" eq "$(pd_rows pdns_a "$H")" "$HAND_ROWS"
check "hand domain still served with its own serial" pdns_serves "$H" 7
da_form "action=delete&select0=$H&hostname=$HOST&username=user1"
check "delete of the hand domain: error=0" eq "$HTTP_BODY" "error=0"
check "pdns2 deletes its copy" wait_until 30 mysql_converged pdns_b "$H"
check "pdns1 read the delete" wait_until 30 group_read_all pdns1
wait_until 10 group_drained pdns1 || true
log_note "after the delete of $H: group pdns1 pending=$(group_pending pdns1)," \
    "state row in pdns_a: '$(mysql_state pdns_a "$H")'"
check "hand domain rows untouched by the delete" eq "$(pd_rows pdns_a "$H")" "$HAND_ROWS"
check "hand domain row still there" \
    eq "$(mysql_q pdns_a "SELECT COUNT(*) FROM domains WHERE name = '$H'")" 1
check "hand domain still served" pdns_serves "$H" 7

check "no 'Exception building answer packet' / backend error in the pdns log" pdns_log_clean
check "writers still running" eval 'stack_alive writer-mysql-pdns1 && stack_alive writer-mysql-pdns2'

e2e_finish
