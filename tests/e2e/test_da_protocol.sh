#!/usr/bin/env bash
# test_da_protocol.sh -- DirectAdmin's side of the protocol, end to end: login test, auth,
# health, rawsave served by named, exists (0/1/2/3, parent lookups, GET and POST), delete
# (selectN, domain=, several at once), the no-action probe, 404 and 405.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

e2e_begin

Z=proto.test
HOST=da1.example.net
USER_=user1
T="$STACK_DIR/t"
mkdir -p "$T"

# --- login test and authentication -----------------------------------------------------------
da_req GET /CMD_API_LOGIN_TEST
check "LOGIN_TEST GET: 200" code_is 200
check "LOGIN_TEST GET: error=0&text=Login+OK" eq "$HTTP_BODY" "error=0&text=Login+OK"
da_req POST /CMD_API_LOGIN_TEST --data ''
check "LOGIN_TEST POST: 200" code_is 200
check "LOGIN_TEST POST: error=0&text=Login+OK" eq "$HTTP_BODY" "error=0&text=Login+OK"

da_raw GET /CMD_API_LOGIN_TEST -u "$AUTH_USER:wrong-$AUTH_PASS"
check "wrong password: 401" code_is 401
check "wrong password: WWW-Authenticate Basic realm" \
    has "$(http_header WWW-Authenticate)" 'Basic realm="'
da_raw GET /CMD_API_LOGIN_TEST -u "nobody:$AUTH_PASS"
check "wrong user: 401" code_is 401
da_raw GET /CMD_API_LOGIN_TEST
check "no credentials: 401" code_is 401
check "no credentials: WWW-Authenticate Basic realm" \
    has "$(http_header WWW-Authenticate)" 'Basic realm="'
da_raw GET "/CMD_API_DNS_ADMIN?action=exists&domain=$Z"
check "exists without credentials: 401" code_is 401
da_raw POST "/CMD_API_DNS_ADMIN?action=rawsave&domain=$Z&hostname=$HOST&username=$USER_" \
    --data-binary "@$E2E_DATA/sample-da-push.db"
check "rawsave without credentials: 401" code_is 401
check "rawsave without credentials: nothing stored" \
    eq "$(redis_cli EXISTS "dadns:zone:$Z")" 0

# --- health ----------------------------------------------------------------------------------
da_raw GET /healthz
check "/healthz without auth: 200" code_is 200
da_raw GET /readyz
check "/readyz with Redis up: 200" code_is 200

# --- rawsave, update -------------------------------------------------------------------------
make_zone "$Z" 2025031402 >"$T/z1.db"
da_push "$Z" "$T/z1.db" "$HOST" "$USER_"
check "rawsave: 200" code_is 200
check "rawsave: error=0" eq "$HTTP_BODY" "error=0"
check "rawsave: named serves serial 2025031402" wait_until 20 zone_serves "$Z" 2025031402
check "rawsave: zone file written" test -s "$ZONES_DIR/$Z.db"
check "rawsave: include line" eq "$(grep "\"$Z\"" "$INCLUDE_CONF")" \
    "zone \"$Z\" { type primary; file \"$ZONES_DIR/$Z.db\"; };"
check "rawsave: Redis hash host" eq "$(redis_cli HGET "dadns:zone:$Z" host)" "$HOST"
check "rawsave: Redis hash user" eq "$(redis_cli HGET "dadns:zone:$Z" user)" "$USER_"
check "rawsave: Redis hash serial" eq "$(redis_cli HGET "dadns:zone:$Z" serial)" 2025031402
check "rawsave: in dadns:zones" eq "$(redis_cli SISMEMBER dadns:zones "$Z")" 1
check "named serves the records (www A)" \
    eq "$(dig +short -p "$DNS_PORT" @127.0.0.1 "www.$Z" A)" 192.0.2.10
check "named serves the split DKIM TXT" \
    has "$(dig +short -p "$DNS_PORT" @127.0.0.1 "x._domainkey.$Z" TXT)" '" "d39QWQ'

make_zone "$Z" 2025031403 >"$T/z2.db"
da_push "$Z" "$T/z2.db" "$HOST" "$USER_" -H 'Content-Type: text/plain'
check "update (text/plain body): error=0" eq "$HTTP_BODY" "error=0"
check "update: named serves serial 2025031403" wait_until 20 zone_serves "$Z" 2025031403

# --- exists ----------------------------------------------------------------------------------
da_get "action=exists&domain=$Z"
check "exists zone: 200" code_is 200
check "exists zone: exists=1 with owner" eq "$HTTP_BODY" \
    "error=0&exists=1&details=Domain+exists+on+$HOST"
da_get "action=exists&domain=$(tr a-z A-Z <<<"$Z")"
check "exists is case-insensitive" eq "$HTTP_BODY" "error=0&exists=1&details=Domain+exists+on+$HOST"
da_get "action=exists&domain=free.test"
check "exists free zone: exists=0" eq "$HTTP_BODY" "error=0&exists=0"
da_get "action=exists&domain=sub.$Z&check_for_parent_domain=true"
check "exists sub with parent check: exists=3 + owner" eq "$HTTP_BODY" \
    "error=0&exists=3&hostname=$HOST&username=$USER_"
da_get "action=exists&domain=a.b.c.$Z&check_for_parent_domain=true"
check "exists deep ancestor: exists=3 + owner" eq "$HTTP_BODY" \
    "error=0&exists=3&hostname=$HOST&username=$USER_"
da_get "action=exists&domain=sub.$Z&check_for_parent_domain=1"
check "check_for_parent_domain=1 counts as true" eq "$HTTP_BODY" \
    "error=0&exists=3&hostname=$HOST&username=$USER_"
da_get "action=exists&domain=sub.$Z"
check "exists sub without parent check: exists=0" eq "$HTTP_BODY" "error=0&exists=0"
da_get "action=exists&domain=x$Z&check_for_parent_domain=true"
check "x$Z is not below $Z: exists=0" eq "$HTTP_BODY" "error=0&exists=0"
da_form "action=exists&domain=$Z"
check "exists via POST form body: exists=1" eq "$HTTP_BODY" \
    "error=0&exists=1&details=Domain+exists+on+$HOST"
da_form "action=exists&domain=sub.$Z&check_for_parent_domain=true"
check "exists parent via POST form body: exists=3" eq "$HTTP_BODY" \
    "error=0&exists=3&hostname=$HOST&username=$USER_"

stack_stop ingest
stack_start_ingest DADNS_APP_PARENT_EXISTS_CODE=2
da_get "action=exists&domain=sub.$Z&check_for_parent_domain=true"
check "parent_exists_code=2: exists=2 Parent Domain exists on host" eq "$HTTP_BODY" \
    "error=0&exists=2&details=Parent+Domain+exists+on+$HOST"
check "parent_exists_code=2: decoded details" eq "$(urldecode "$HTTP_BODY")" \
    "error=0&exists=2&details=Parent Domain exists on $HOST"
da_get "action=exists&domain=a.b.c.$Z&check_for_parent_domain=true"
check "parent_exists_code=2: deep ancestor exists=2" eq "$HTTP_BODY" \
    "error=0&exists=2&details=Parent+Domain+exists+on+$HOST"
da_get "action=exists&domain=$Z&check_for_parent_domain=true"
check "parent_exists_code=2: the zone itself still exists=1" eq "$HTTP_BODY" \
    "error=0&exists=1&details=Domain+exists+on+$HOST"
stack_stop ingest
stack_start_ingest

# --- delete ----------------------------------------------------------------------------------
da_form "action=delete&select0=$Z&hostname=$HOST&username=$USER_"
check "delete select0 (form body): 200" code_is 200
check "delete select0: error=0" eq "$HTTP_BODY" "error=0"
check "delete: named stops serving it" wait_until 20 zone_not_served "$Z"
check "delete: zone file gone" wait_until 20 test ! -e "$ZONES_DIR/$Z.db"
check "delete: include line gone" wait_until 20 eval '! include_has "$Z"'
check "delete: not in dadns:zones" eq "$(redis_cli SISMEMBER dadns:zones "$Z")" 0
da_get "action=exists&domain=$Z"
check "delete: exists=0 afterwards" eq "$HTTP_BODY" "error=0&exists=0"
da_get "action=exists&domain=sub.$Z&check_for_parent_domain=true"
check "delete: parent lookup exists=0 afterwards" eq "$HTTP_BODY" "error=0&exists=0"

make_zone del-domain.test 1 >"$T/d.db"
da_push del-domain.test "$T/d.db" "$HOST" "$USER_"
check "push del-domain.test: error=0" eq "$HTTP_BODY" "error=0"
check "del-domain.test served" wait_until 20 zone_serves del-domain.test 1
da_form "action=delete&domain=del-domain.test&hostname=$HOST&username=$USER_"
check "delete domain= (form body): error=0" eq "$HTTP_BODY" "error=0"
check "delete domain=: not served" wait_until 20 zone_not_served del-domain.test
check "delete domain=: zone file gone" wait_until 20 test ! -e "$ZONES_DIR/del-domain.test.db"

for i in 0 1 2; do
    make_zone "multi$i.test" 10 >"$T/m$i.db"
    da_push "multi$i.test" "$T/m$i.db" "$HOST" "$USER_"
    check "push multi$i.test: error=0" eq "$HTTP_BODY" "error=0"
done
check "multi0..2 served" wait_until 20 eval \
    'zone_serves multi0.test 10 && zone_serves multi1.test 10 && zone_serves multi2.test 10'
da_req POST "/CMD_API_DNS_ADMIN?action=delete&hostname=$HOST&username=$USER_" \
    --data "select0=multi0.test&select1=multi1.test&select2=multi2.test"
check "delete select0..2 (query + form): error=0" eq "$HTTP_BODY" "error=0"
for i in 0 1 2; do
    check "multi$i.test not served" wait_until 20 zone_not_served "multi$i.test"
    check "multi$i.test zone file gone" wait_until 20 test ! -e "$ZONES_DIR/multi$i.test.db"
done
check "include has no zone left after deleting everything" wait_until 20 eval \
    '! grep -q "^zone " "$INCLUDE_CONF"'

# --- odd requests ----------------------------------------------------------------------------
da_req POST /CMD_API_DNS_ADMIN --data ''
check "POST without action: 200" code_is 200
check "POST without action: error=0&text=OK" eq "$HTTP_BODY" "error=0&text=OK"
da_req GET /CMD_API_NOT_THERE
check "unknown path: 404" code_is 404
check "unknown path: error=1" has "$HTTP_BODY" "error=1"
da_req PUT "/CMD_API_DNS_ADMIN?action=rawsave&domain=$Z" --data-binary "@$T/z1.db"
check "PUT: 405" code_is 405
check "PUT: error=1" has "$HTTP_BODY" "error=1"
check "PUT: nothing stored" eq "$(redis_cli SISMEMBER dadns:zones "$Z")" 0

e2e_finish
