#!/usr/bin/env bash
# test_bad_input.sh -- hostile and broken pushes: invalid zones, oversize bodies, dangerous
# domain names, missing parameters. Each must be refused (error=1, 4xx) without leaving a file,
# an include line or a Redis key behind, and must not block a good push made afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin

HOST=da1.example.net
T="$STACK_DIR/t"
mkdir -p "$T"

# refused WHAT - the last answer is a 4xx with error=1 and a reason.
refused() {
    local want="$1" text
    code_is "$want" || return 1
    has "$HTTP_BODY" "error=1" || return 1
    text="$(urldecode "$(printf '%s' "$HTTP_BODY" | tr '&' '\n' | sed -n 's/^text=//p')")"
    [ -n "$text" ] || {
        echo "#   no text= reason"
        return 1
    }
}

# --- good zones first ------------------------------------------------------------------------
make_zone good1.test 100 >"$T/good1.db"
da_push good1.test "$T/good1.db" "$HOST"
check "good1.test: error=0" eq "$HTTP_BODY" "error=0"
make_zone upper-case.test 100 >"$T/upper.db"
da_push UPPER-Case.TEST "$T/upper.db" "$HOST"
check "UPPER-Case.TEST accepted: error=0" eq "$HTTP_BODY" "error=0"
check "good1.test served" wait_until 20 zone_serves good1.test 100
check "uppercase domain served lowercased" wait_until 20 zone_serves upper-case.test 100
check "uppercase domain stored lowercased" eq "$(redis_cli EXISTS dadns:zone:upper-case.test)" 1
check "uppercase domain file is lowercase" test -s "$ZONES_DIR/upper-case.test.db"
cp "$INCLUDE_CONF" "$T/include.before"

# --- invalid zones ---------------------------------------------------------------------------
for bad in bad-syntax bad-cname-and-other bad-apex-without-ns bad-include bad-out-of-zone; do
    make_zone "$bad.test" 100 "$bad.db" >"$T/$bad.db"
    da_push "$bad.test" "$T/$bad.db" "$HOST"
    check "$bad: 400 error=1 with a reason" refused 400
    check "$bad: reason says Invalid zone data" \
        has "$(urldecode "$HTTP_BODY")" "text=Invalid zone data: "
done
da_push bad-include.test "$T/bad-include.db" "$HOST"
check "\$INCLUDE: answer does not leak /etc/passwd" lacks "$HTTP_BODY" "root:x:0"

make_zone good1.test 101 >"$T/good1-101.db"
da_push other-name.test "$T/good1-101.db" "$HOST"
check "zone text of another domain: 400" refused 400

printf 'this is not a zone\n' >"$T/garbage.db"
da_push garbage.test "$T/garbage.db" "$HOST"
check "garbage body: 400" refused 400

# --- body size -------------------------------------------------------------------------------
stack_stop ingest
stack_start_ingest DADNS_APP_MAX_BODY_BYTES=4096
{
    make_zone big.test 100
    for i in $(seq 1 300); do printf 'host%d\t3600\tIN\tA\t192.0.2.%d\n' "$i" $((i % 250 + 1)); done
} >"$T/big.db"
da_push big.test "$T/big.db" "$HOST"
check "body over max_body_bytes: 413" code_is 413
check "body over max_body_bytes: error=1" has "$HTTP_BODY" "error=1"
make_zone small.test 100 >"$T/small.db"
da_push small.test "$T/small.db" "$HOST"
check "body under max_body_bytes still accepted" eq "$HTTP_BODY" "error=0"
stack_stop ingest
stack_start_ingest

# --- dangerous domain names ------------------------------------------------------------------
make_zone evil.test 100 >"$T/evil.db"
for d in '..%2F..%2Fevil.test' '../evil.test' 'a%2Fb.test' '%2Fetc%2Fevil.test' \
    'evil.test%22' 'evil%22%3B%20include%20%22x.test' 'evil%20x.test' 'evil.test%00.db' \
    'evil.test%0Azone' 'evil.test%0D' 'evil..test' '-evil.test' 'evil_x.test' '%2A.test' \
    'localhost' 'evil.123' "$(printf 'x%.0s' $(seq 1 64)).test"; do
    da_push "$d" "$T/evil.db" "$HOST"
    check "domain '$d': 400 error=1" refused 400
done
da_req POST "/CMD_API_DNS_ADMIN?action=rawsave&domain=&hostname=$HOST&username=u" \
    --data-binary "@$T/evil.db"
check "empty domain: 400 error=1" refused 400
da_req POST "/CMD_API_DNS_ADMIN?action=rawsave&hostname=$HOST&username=u" \
    --data-binary "@$T/evil.db"
check "missing domain: 400" code_is 400
check "missing domain: error=1&text=Missing+%27domain%27+parameter" \
    eq "$HTTP_BODY" "error=1&text=Missing+%27domain%27+parameter"
check "missing domain: decoded text" eq "$(urldecode "$HTTP_BODY")" \
    "error=1&text=Missing 'domain' parameter"
da_req POST "/CMD_API_DNS_ADMIN?action=rawsave&domain=empty-body.test&hostname=$HOST&username=u" \
    --data-binary ''
check "empty body: 400" code_is 400
check "empty body: Missing zone file content" eq "$(urldecode "$HTTP_BODY")" \
    "error=1&text=Missing zone file content"

da_get "action=exists&domain=..%2Fevil.test"
check "exists with a bad name: 400 error=1" refused 400
da_form "action=delete&select0=..%2F..%2Fgood1.test&hostname=$HOST"
check "delete with a bad name: 400 error=1" refused 400
check "good1.test still served after the bad delete" zone_serves good1.test 100
da_req POST "/CMD_API_DNS_ADMIN?action=rawsave&domain=bad%zzescape.test&hostname=$HOST" \
    --data-binary "@$T/evil.db"
check "malformed %-escape: 400 error=1" refused 400

# --- nothing left behind, later good pushes work ---------------------------------------------
make_zone good2.test 200 >"$T/good2.db"
da_push good2.test "$T/good2.db" "$HOST"
check "good push after the bad ones: error=0" eq "$HTTP_BODY" "error=0"
check "good push after the bad ones: served" wait_until 20 zone_serves good2.test 200
check "good1.test still served" zone_serves good1.test 100

check "zones_dir holds only the good zones" eq "$(cd "$ZONES_DIR" && ls -A | sort | tr '\n' ' ')" \
    "good1.test.db good2.test.db small.test.db upper-case.test.db "
check "include lists only the good zones" eq \
    "$(sed -n 's/^zone "\([^"]*\)".*/\1/p' "$INCLUDE_CONF" | tr '\n' ' ')" \
    "good1.test good2.test small.test upper-case.test "
check "include unchanged apart from the later good zones" eq \
    "$(grep -v -e '"good2.test"' -e '"small.test"' "$INCLUDE_CONF")" "$(cat "$T/include.before")"
check "Redis holds zone hashes only for the good zones" eq \
    "$(redis_cli --scan --pattern 'dadns:zone:*' | sort | tr '\n' ' ')" \
    "dadns:zone:good1.test dadns:zone:good2.test dadns:zone:small.test dadns:zone:upper-case.test "
check "dadns:zones holds only the good zones" eq \
    "$(redis_cli SMEMBERS dadns:zones | sort | tr '\n' ' ')" \
    "good1.test good2.test small.test upper-case.test "
check "nothing was written outside the state directory" test ! -e "$STACK_DIR/evil.test.db"

e2e_finish
