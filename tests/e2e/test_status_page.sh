#!/usr/bin/env bash
# test_status_page.sh -- ingest's status page on a real stack (obs_lib.sh's scenario: zones
# pushed, one failing into the dead letters; a reconciler summary as the reconciler writes it):
# GET /status (JSON, Basic auth) carries the zones, the bind backend with its dead letter, the
# writer heartbeat, the failure and the reconciler pass; GET /status.html rendered by headless
# Chromium (Debian's chromium; exit 77 = skipped without it) shows the zone count, the backend
# row, the dead-letter count and the failure reason; a 1280x900 screenshot is taken (copied to
# $DADNS_SCREENSHOT_OUT when set, e.g. docs/status-page.png).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/obs_lib.sh"

CHROMIUM="${DADNS_CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
    echo "# SKIP: chromium is not installed (apt-get install chromium)"
    exit 77
fi
command -v node >/dev/null || die "node is needed to read the JSON (apt-get install nodejs)"

obs_begin
ZONES_LIVE=$((OBS_GOOD + 1)) # the failing zone is stored too

# A finished reconciler pass, in the contract's format, as the reconciler stores it.
now="$(date +%s)"
redis_cli SET dadns:reconciler:last "{\"started_at\":$((now - 70)),\"finished_at\":$((now - 60)),\
\"duration_s\":10,\"dry_run\":false,\"forced\":false,\"servers\":[{\"name\":\"da1\",\
\"answered\":true,\"zones\":$ZONES_LIVE,\"error\":\"\"}],\"zones_seen\":$ZONES_LIVE,\
\"orphans_deleted\":0,\"orphans_held\":0,\"guard_tripped\":false,\"guard_reason\":\"\",\
\"owners_updated\":0,\"republished\":{\"bind\":1},\"deleted_on_backend\":{},\"unmanaged\":{},\
\"tombstones_purged\":0,\"error\":\"\"}" >/dev/null

# --- JSON -----------------------------------------------------------------------------------
da_raw GET /status
check "/status without credentials: 401" code_is 401
da_raw GET /status -u "$AUTH_USER:wrong"
check "/status with a wrong password: 401" code_is 401
da_req POST /status --data x=1
check "POST /status: 405" code_is 405
da_req GET /status
check "/status: 200" code_is 200
check "/status: application/json" has "$(http_header Content-Type)" "application/json"
check "/status: not cached" eq "$(http_header Cache-Control)" "no-store"
printf '%s' "$HTTP_BODY" >"$STACK_DIR/status.json"
# One "key=value" line per fact the checks need, read by node from the JSON.
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const be = (s.backends || []).find((b) => b.name === "bind") || {};
const w = (be.writers || [])[0] || {};
const dead = (s.failures || []).find((f) => f.dead && f.zone === process.argv[2]) || {};
const retry = (s.failures || []).find((f) => !f.dead && f.zone === process.argv[2]) || {};
const esc = (t) => String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const out = {
  redis_up: s.redis && s.redis.up, live: s.zones && s.zones.live,
  tombstones: s.zones && s.zones.tombstones, stream_key: s.stream && s.stream.key,
  be_dead: be.dead_letters, be_pending: be.pending, be_lag: be.lag, be_breaker: be.breaker_open,
  be_last_apply: be.last_apply_at > 0, consumers: (be.consumers || []).length,
  writer_applied: w.applied, writer_dead: w.dead, writer_stale: w.stale,
  dead_attempts: dead.attempts, dead_op: dead.op, dead_reason_len: (dead.reason || "").length,
  retry_attempts: retry.attempts, spool_enabled: s.ingest && s.ingest.spool.enabled,
  rec_zones_seen: s.reconciler && s.reconciler.last && s.reconciler.last.zones_seen,
  guard: s.reconciler && s.reconciler.guard,
};
for (const [k, v] of Object.entries(out)) console.log(k + "=" + JSON.stringify(v));
require("fs").writeFileSync(process.argv[3], esc(dead.reason || "(none)"));
' "$STACK_DIR/status.json" "$OBS_BAD" "$STACK_DIR/reason.html" >"$STACK_DIR/facts" ||
    die "node could not read /status"
fact() {
    sed -n "s/^$1=//p" "$STACK_DIR/facts"
}
check "json: redis up" eq "$(fact redis_up)" true
check "json: $ZONES_LIVE live zones" eq "$(fact live)" "$ZONES_LIVE"
check "json: tombstones counted (0)" eq "$(fact tombstones)" 0
check "json: stream key" eq "$(fact stream_key)" '"dadns:changes"'
check "json: bind has 1 dead letter" eq "$(fact be_dead)" 1
check "json: bind pending 0, lag 0" eq "$(fact be_pending) $(fact be_lag)" "0 0"
check "json: bind breaker closed" eq "$(fact be_breaker)" false
check "json: bind last apply known" eq "$(fact be_last_apply)" true
check "json: one consumer" eq "$(fact consumers)" 1
check "json: writer heartbeat counts the applied zones" \
    eval '[ "$(fact writer_applied)" -ge "$OBS_GOOD" ]'
check "json: writer heartbeat counts the dead letter" eq "$(fact writer_dead)" 1
check "json: writer heartbeat fresh" eq "$(fact writer_stale)" false
check "json: the dead failure: 2 attempts, op save" \
    eq "$(fact dead_attempts) $(fact dead_op)" '2 "save"'
check "json: the dead failure has a reason" eval '[ "$(fact dead_reason_len)" -gt 0 ]'
check "json: the retrying failure: 1 attempt" eq "$(fact retry_attempts)" 1
check "json: spool off" eq "$(fact spool_enabled)" false
check "json: last reconciler pass" eq "$(fact rec_zones_seen)" "$ZONES_LIVE"
check "json: guard not tripped" eq "$(fact guard)" null

da_req GET /status -H 'Accept: text/html,application/xhtml+xml'
check "/status asked for as text/html: HTML" has "$(http_header Content-Type)" "text/html"
da_req GET /status.html
check "/status.html: 200 text/html" \
    eval 'code_is 200 && has "$(http_header Content-Type)" "text/html"'
check "/status.html: refreshes itself" has "$HTTP_BODY" '<meta http-equiv="refresh" content="10">'
check "/status.html: no script, no external resource" \
    eval 'lacks "$HTTP_BODY" "<script" && lacks "$HTTP_BODY" "src=" && lacks "$HTTP_BODY" "<link"'

# --- headless Chromium ----------------------------------------------------------------------
URL="http://$AUTH_USER:$AUTH_PASS@127.0.0.1:$INGEST_PORT/status.html"
chromium_run() {
    local profile
    profile="$(mktemp -d "$STACK_DIR/chromium.XXXXXX")"
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$profile" "$@" 2>>"$STACK_DIR/logs/chromium.log"
}
chromium_run --dump-dom "$URL" >"$STACK_DIR/dom.html" || true
DOM="$(cat "$STACK_DIR/dom.html")"
check "chromium: the page loaded (credentials in the URL)" has "$DOM" "<h1>dadns status</h1>"
check "chromium: zone count shown" has "$DOM" "id=\"zones-live\">$ZONES_LIVE<"
check "chromium: the bind backend row" has "$DOM" 'id="backend-bind"'
check "chromium: bind's dead-letter count" has "$DOM" '<td class="n dead bad">1</td>'
check "chromium: the dead-letter total card" has "$DOM" 'id="dead-total">1<'
check "chromium: the failing zone" has "$DOM" "<td class=\"zone\">$OBS_BAD</td>"
check "chromium: the failure reason" has "$DOM" "$(cat "$STACK_DIR/reason.html")"
check "chromium: the writer heartbeat" has "$DOM" '<section id="writers">'
check "chromium: the reconciler pass" has "$DOM" 'bind: 1'

chromium_run --window-size=1280,900 --hide-scrollbars --screenshot="$STACK_DIR/status.png" \
    "$URL" >/dev/null || true
png_ok() {
    local f="$STACK_DIR/status.png" size dims
    [ -s "$f" ] || return 1
    [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
    size="$(stat -c %s "$f")"
    dims="$(od -An -tu1 -j16 -N8 "$f" | awk '{ print $1*16777216+$2*65536+$3*256+$4 "x" \
        $5*16777216+$6*65536+$7*256+$8 }')"
    printf '#   screenshot: %s bytes, %s\n' "$size" "$dims"
    [ "$size" -gt 20000 ] && [ "$dims" = 1280x900 ]
}
check "chromium: a 1280x900 PNG screenshot of more than 20 kB" png_ok
if [ -n "${DADNS_SCREENSHOT_OUT:-}" ] && [ -s "$STACK_DIR/status.png" ]; then
    cp "$STACK_DIR/status.png" "$DADNS_SCREENSHOT_OUT"
    log_note "screenshot copied to $DADNS_SCREENSHOT_OUT"
fi

# --- Redis down: the page still answers, saying so -------------------------------------------
stack_stop redis
sleep 5.2 # past the cache's TTL (5 s)
da_req GET /status
check "/status with Redis down: 200, redis.up false" \
    eval 'code_is 200 && has "$HTTP_BODY" "\"up\": false"'
da_req GET /status.html
check "/status.html with Redis down: says it" has "$HTTP_BODY" "Redis cannot be read"
stack_start_redis
e2e_finish
