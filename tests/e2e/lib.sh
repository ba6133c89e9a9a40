# lib.sh -- a throwaway dadns stack (redis-server, named, dadns-ingest, dadns-writer-bind) on
# loopback ports, plus the helpers the end-to-end tests use (DirectAdmin played by curl, dig).
#
# The MySQL side (issue 3): a throwaway mariadbd, a pdns_server (gmysql) and dadns-writer-mysql
# processes, one per backend instance or replica (section "MariaDB, PowerDNS, writer-mysql").
#
# Sourced by tests/e2e/test_*.sh, bench/run*.sh and scripts/run-local.sh. Sourcing only defines
# functions and variables; e2e_begin starts a stack in a mktemp -d directory and installs the
# EXIT trap that stops everything and removes the directory, even when a test fails.
#
# Inputs (environment): DADNS_SRC_DIR (repo root, default: two levels above this file),
# DADNS_BIN_DIR (CMake build dir, default $DADNS_SRC_DIR/build), DADNS_E2E_KEEP=1 keeps the
# temporary directory for inspection.

: "${DADNS_SRC_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${DADNS_BIN_DIR:=$DADNS_SRC_DIR/build}"
INGEST_BIN="$DADNS_BIN_DIR/services/ingest/dadns-ingest"
WRITER_BIN="$DADNS_BIN_DIR/services/writer-bind/dadns-writer-bind"
E2E_DATA="$DADNS_SRC_DIR/tests/data/e2e"

# Stack state (set by stack_init).
STACK_DIR=""
REDIS_PORT=""
DNS_PORT=""
RNDC_PORT=""
INGEST_PORT=""
AUTH_USER=""
AUTH_PASS=""
ZONES_DIR=""
INCLUDE_CONF=""
RNDC_CONF=""
DADNS_CONF=""
declare -A STACK_PIDS=()
declare -A STACK_LOGPOS=()
declare -A STACK_METRICS_PORTS=() # admin (metrics) port of each dadns service (stack_metrics_port)
STACK_USED_PORTS=" "

# Last HTTP exchange (set by da_req / da_raw).
HTTP_CODE=""
HTTP_BODY=""
HTTP_HEADERS=""

# Test counters (check / e2e_finish).
E2E_PASS=0
E2E_FAIL=0
E2E_FINISHED=0

log_note() {
    printf '# %s\n' "$*"
}

die() {
    printf 'FATAL: %s\n' "$*" >&2
    exit 1
}

now_ns() {
    date +%s%N
}

# ---------------------------------------------------------------------------------------------
# Ports and waiting

# stack_port_in_use PORT - true when a TCP socket listens or a UDP socket is bound on local PORT
# (v4/v6). ss (netlink) when present: /proc/net/tcp can miss entries while sockets churn.
stack_port_in_use() {
    local hex
    if command -v ss >/dev/null 2>&1; then
        ss -Hltun 2>/dev/null | awk '{ print $5 }' | grep -q ":$1\$"
        return
    fi
    hex="$(printf '%04X' "$1")"
    {
        awk 'FNR > 1 && $4 == "0A" { print $2 }' /proc/net/tcp /proc/net/tcp6
        awk 'FNR > 1 { print $2 }' /proc/net/udp /proc/net/udp6
    } 2>/dev/null | grep -qi ":${hex}\$"
}

# stack_free_port VAR - set VAR to a random port in 10000-32767 (below the ephemeral range)
# that is free on tcp and udp and not handed out before by this shell.
stack_free_port() {
    local p _
    for _ in $(seq 1 200); do
        p=$((10000 + (RANDOM * 32768 + RANDOM) % 22768))
        case "$STACK_USED_PORTS" in *" $p "*) continue ;; esac
        if ! stack_port_in_use "$p"; then
            STACK_USED_PORTS="$STACK_USED_PORTS$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    die "no free port found"
}

# wait_until TIMEOUT_S CMD... - run CMD every 50 ms until it succeeds (0) or TIMEOUT_S seconds
# have passed (1).
wait_until() {
    local timeout="$1"
    shift
    local deadline=$(($(now_ns) + timeout * 1000000000))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ "$(now_ns)" -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.05
    done
}

# ---------------------------------------------------------------------------------------------
# Configuration

# stack_init DIR - choose ports and credentials (env overrides: DADNS_REDIS_PORT, DADNS_DNS_PORT,
# DADNS_RNDC_PORT, DADNS_APP_LISTEN_PORT, DADNS_APP_AUTH_USERNAME, DADNS_APP_AUTH_PASSWORD when
# STACK_USE_ENV=1) and write every configuration file under DIR. STACK_SPOOL=1 gives ingest a
# spool in DIR/spool (app.spool_dir); without it the spool is off.
stack_init() {
    STACK_DIR="$1"
    if [ "${STACK_USE_ENV:-0}" = 1 ]; then
        REDIS_PORT="${DADNS_REDIS_PORT:-16379}"
        DNS_PORT="${DADNS_DNS_PORT:-5353}"
        RNDC_PORT="${DADNS_RNDC_PORT:-9953}"
        INGEST_PORT="${DADNS_APP_LISTEN_PORT:-2222}"
        AUTH_USER="${DADNS_APP_AUTH_USERNAME:-dadns}"
    else
        stack_free_port REDIS_PORT
        stack_free_port DNS_PORT
        stack_free_port RNDC_PORT
        stack_free_port INGEST_PORT
        AUTH_USER="dadns"
    fi
    mkdir -p "$STACK_DIR/redis" "$STACK_DIR/named" "$STACK_DIR/zones" "$STACK_DIR/logs"
    if [ -n "${DADNS_APP_AUTH_PASSWORD:-}" ] && [ "${STACK_USE_ENV:-0}" = 1 ]; then
        AUTH_PASS="$DADNS_APP_AUTH_PASSWORD"
    else
        if [ ! -s "$STACK_DIR/password" ]; then
            (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$STACK_DIR/password")
        fi
        AUTH_PASS="$(cat "$STACK_DIR/password")"
    fi
    ZONES_DIR="$STACK_DIR/zones"
    INCLUDE_CONF="$STACK_DIR/named/dadns-zones.conf"
    RNDC_CONF="$STACK_DIR/named/rndc.conf"
    DADNS_CONF="$STACK_DIR/dadns.yaml"
    stack_write_configs
}

stack_write_configs() {
    local d="$STACK_DIR"
    cat >"$d/redis.conf" <<EOF
# generated by dadns lib.sh
bind 127.0.0.1
protected-mode yes
port $REDIS_PORT
daemonize no
dir $d/redis
appendonly yes
appendfsync always
save ""
maxmemory-policy noeviction
loglevel notice
logfile ""
EOF
    if [ ! -s "$d/named/rndc.key" ]; then
        rndc-confgen -a -A hmac-sha256 -k dadns-rndc -c "$d/named/rndc.key" >/dev/null 2>&1 ||
            die "rndc-confgen failed"
        chmod 600 "$d/named/rndc.key"
    fi
    cat >"$RNDC_CONF" <<EOF
include "$d/named/rndc.key";
options { default-key "dadns-rndc"; default-server 127.0.0.1; default-port $RNDC_PORT; };
EOF
    if [ ! -e "$INCLUDE_CONF" ]; then
        : >"$INCLUDE_CONF"
    fi
    cat >"$d/named/named.conf" <<EOF
// generated by dadns lib.sh: a primary-only named on loopback
include "$d/named/rndc.key";
controls {
    inet 127.0.0.1 port $RNDC_PORT allow { 127.0.0.1; } keys { "dadns-rndc"; };
};
options {
    directory "$d/named";
    pid-file "$d/named/named.pid";
    session-keyfile "$d/named/session.key";
    managed-keys-directory "$d/named";
    listen-on port $DNS_PORT { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer { none; };
};
include "$INCLUDE_CONF";
EOF
    cat >"$DADNS_CONF" <<EOF
# generated by dadns lib.sh
app:
  auth_username: "$AUTH_USER"
  auth_password: "$AUTH_PASS"
  listen_addr: 127.0.0.1
  listen_port: $INGEST_PORT
  # ingest spool: in the stack dir with STACK_SPOOL=1 (make run, test_spool.sh); off otherwise,
  # so that pushes while Redis is down answer 503 (test_redis_down.sh)
  spool_dir: "$([ "${STACK_SPOOL:-0}" = 1 ] && printf '%s' "$d/spool")"
log:
  level: info
# each service's admin listener gets its own port from the stack helpers (DADNS_METRICS_PORT,
# stack_metrics_port); a process started by hand has none
metrics:
  listen_addr: 127.0.0.1
  port: 0
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  prefix: "dadns:"
writer:
  consumer_name: "${HOSTNAME:-dadns}-local"
dns:
  backends:
    bind:
      type: bind
      zones_dir: "$ZONES_DIR"
      named_conf: "$INCLUDE_CONF"
      rndc: rndc
      rndc_conf: "$RNDC_CONF"
      rndc_server: 127.0.0.1
      rndc_port: $RNDC_PORT
      query_addr: 127.0.0.1
      query_port: $DNS_PORT
EOF
}

# ---------------------------------------------------------------------------------------------
# Processes

# stack_env_filter - print "-u VAR" for env(1) for each DADNS_* variable a service must not see:
# all of them in tests (hermetic), only those that are no config key with STACK_USE_ENV=1.
stack_env_filter() {
    local v
    for v in ${!DADNS_@}; do
        if [ "${STACK_USE_ENV:-0}" = 1 ] &&
            [[ "$v" =~ ^DADNS_(APP|LOG|REDIS|WRITER|METRICS|DNS_BACKENDS|DIRECTADMIN|RECONCILER)_ ]]; then
            continue
        fi
        printf -- '-u\n%s\n' "$v"
    done
}

# stack_metrics_port NAME - choose the admin listener port (/metrics, /healthz, /readyz) of dadns
# service NAME once, into STACK_METRICS_PORTS[NAME] (kept across restarts): with
# STACK_USE_ENV=1 (make run) ingest 9400, writer (writer-bind) 9401, writer-mysql* 9402 and up,
# reconciler* 9410; otherwise a free port. The start helpers pass it as DADNS_METRICS_PORT.
stack_metrics_port() {
    local name="$1" mport n k
    [ -z "${STACK_METRICS_PORTS[$name]:-}" ] || return 0
    if [ "${STACK_USE_ENV:-0}" = 1 ]; then
        case "$name" in
        ingest) mport=9400 ;;
        writer) mport=9401 ;;
        reconciler*) mport=9410 ;;
        writer-mysql*)
            n=0
            for k in "${!STACK_METRICS_PORTS[@]}"; do
                case "$k" in writer-mysql*) n=$((n + 1)) ;; esac
            done
            mport=$((9402 + n))
            ;;
        *) stack_free_port mport ;;
        esac
    else
        stack_free_port mport
    fi
    STACK_METRICS_PORTS[$name]="$mport"
}

# metrics_url NAME PATH - the URL of PATH on service NAME's admin listener.
metrics_url() {
    printf 'http://127.0.0.1:%s%s' "${STACK_METRICS_PORTS[$1]:-0}" "$2"
}

# stack_spawn NAME CMD... - start CMD in the background, output to logs/NAME.log. It gets a
# session of its own, so a Ctrl-C in the terminal reaches only the script, which then stops the
# services in order (setsid execs in place: $! stays the service's pid).
stack_spawn() {
    local name="$1" setsid=()
    shift
    STACK_LOGPOS[$name]="$(stat -c %s "$STACK_DIR/logs/$name.log" 2>/dev/null || echo 0)"
    if command -v setsid >/dev/null 2>&1; then
        setsid=(setsid)
    fi
    "${setsid[@]}" "$@" >>"$STACK_DIR/logs/$name.log" 2>&1 </dev/null &
    STACK_PIDS[$name]=$!
}

# stack_log_since_start NAME - what NAME logged since it was last started.
stack_log_since_start() {
    tail -c +"$((${STACK_LOGPOS[$1]:-0} + 1))" "$STACK_DIR/logs/$1.log" 2>/dev/null
}

# stack_alive NAME - true while NAME runs (a zombie counts as dead).
stack_alive() {
    local pid="${STACK_PIDS[$1]:-}" state
    [ -n "$pid" ] || return 1
    state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# stack_stop NAME [TIMEOUT_S] - SIGTERM, wait (SIGKILL after TIMEOUT_S, default 10), reap.
# Sets STOP_RC to the exit status (128+signal when killed by one).
stack_stop() {
    local name="$1" timeout="${2:-10}" pid="${STACK_PIDS[$1]:-}"
    STOP_RC=0
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$timeout" eval '! stack_alive "$name"'; then
        log_note "$name did not stop within ${timeout}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || STOP_RC=$?
    unset "STACK_PIDS[$name]"
    return 0
}

redis_cli() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

rndc_cmd() {
    rndc -c "$RNDC_CONF" "$@"
}

# redis_ours - the Redis answering on REDIS_PORT is the one we started.
redis_ours() {
    stack_alive redis &&
        [ "$(redis_cli INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = \
            "$(stack_pid redis)" ]
}

stack_start_redis() {
    stack_spawn redis redis-server "$STACK_DIR/redis.conf"
    wait_until 20 redis_ours ||
        die "redis-server did not start on port $REDIS_PORT (log: $STACK_DIR/logs/redis.log)"
}

# named_ours - our named answers rndc and listens on DNS_PORT (named keeps running when it
# cannot bind a port, so its log is checked too).
named_ours() {
    local log
    stack_alive named && rndc_cmd status >/dev/null 2>&1 || return 1
    log="$(stack_log_since_start named)"
    grep -q "listening on IPv4 interface lo, 127.0.0.1#$DNS_PORT\$" <<<"$log" &&
        ! grep -q "address in use" <<<"$log"
}

stack_start_named() {
    stack_spawn named named -4 -g -c "$STACK_DIR/named/named.conf"
    wait_until 20 named_ours ||
        die "named did not start on port $DNS_PORT / rndc $RNDC_PORT (log: $STACK_DIR/logs/named.log)"
}

# stack_start_ingest [VAR=value...] - start dadns-ingest with extra environment, wait for
# /healthz.
stack_start_ingest() {
    [ -x "$INGEST_BIN" ] || die "missing $INGEST_BIN (build first)"
    local filter
    mapfile -t filter < <(stack_env_filter)
    stack_metrics_port ingest
    stack_spawn ingest env "${filter[@]}" DADNS_METRICS_PORT="${STACK_METRICS_PORTS[ingest]}" "$@" \
        "$INGEST_BIN" -c "$DADNS_CONF"
    wait_until 20 ingest_healthy || die "dadns-ingest not healthy (log: $STACK_DIR/logs/ingest.log)"
}

ingest_healthy() {
    stack_alive ingest &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "http://127.0.0.1:$INGEST_PORT/healthz")" = 200 ]
}

# stack_start_writer [VAR=value...] - start dadns-writer-bind, wait for its consumer group.
stack_start_writer() {
    [ -x "$WRITER_BIN" ] || die "missing $WRITER_BIN (build first)"
    local filter
    mapfile -t filter < <(stack_env_filter)
    stack_metrics_port writer
    stack_spawn writer env "${filter[@]}" DADNS_METRICS_PORT="${STACK_METRICS_PORTS[writer]}" "$@" \
        "$WRITER_BIN" -c "$DADNS_CONF" -b bind
    wait_until 20 writer_ready || die "dadns-writer-bind not ready (log: $STACK_DIR/logs/writer.log)"
}

writer_ready() {
    stack_alive writer &&
        redis_cli XINFO GROUPS dadns:changes 2>/dev/null | grep -qx bind
}

# writer_drained - the bind group has read every stream entry and acknowledged them all.
writer_drained() {
    local last info
    last="$(redis_cli XREVRANGE dadns:changes + - COUNT 1 2>/dev/null | head -n 1)"
    info="$(redis_cli XINFO GROUPS dadns:changes 2>/dev/null | awk '
        NR % 2 == 1 { k = $0; next }
        k == "name" { cur = $0 }
        cur == "bind" && k == "pending" { p = $0 }
        cur == "bind" && k == "last-delivered-id" { l = $0 }
        END { print p " " l }')"
    [ -z "$last" ] && return 0
    [ "$info" = "0 $last" ]
}

stack_start_all() {
    stack_start_redis
    stack_start_named
    stack_start_ingest "$@"
    stack_start_writer
}

# stack_stop_all - stop every service started (the writer-mysql* ones and ingest first, then the
# bind writer, the DNS servers, MariaDB and Redis). With STACK_CHECK_EXIT=1 each one's exit
# status after SIGTERM is recorded as a check (not pdns_server's: it ends by the signal).
stack_stop_all() {
    local n names=()
    for n in "${!STACK_PIDS[@]}"; do
        # the reconciler and the fake DirectAdmin servers (test_reconciler*.sh) go first too
        case "$n" in writer-mysql* | reconciler* | fakeda*) names+=("$n") ;; esac
    done
    for n in "${names[@]}" ingest writer pdns named mariadb redis; do
        if [ -n "${STACK_PIDS[$n]:-}" ]; then
            if [ "$n" = mariadb ]; then
                stack_stop "$n" 60
            else
                stack_stop "$n"
            fi
            # pdns_server ends by the signal itself (143): not a failure.
            if [ "${STACK_CHECK_EXIT:-0}" = 1 ] && [ "$n" != pdns ]; then
                check "$n exits 0 on SIGTERM (got $STOP_RC)" [ "$STOP_RC" -eq 0 ]
            fi
        fi
    done
}

# stack_pid NAME - the pid of a running service.
stack_pid() {
    echo "${STACK_PIDS[$1]:-}"
}

# ---------------------------------------------------------------------------------------------
# DirectAdmin played by curl

# da_raw METHOD PATH [curl args...] - one request to ingest, no credentials unless given in the
# args. Sets HTTP_CODE (000 when no answer), HTTP_BODY (trailing newlines removed), HTTP_HEADERS.
da_raw() {
    local method="$1" path="$2"
    shift 2
    local bf="$STACK_DIR/last.body" hf="$STACK_DIR/last.headers"
    : >"$bf"
    : >"$hf"
    HTTP_CODE="$(curl -s -o "$bf" -D "$hf" -w '%{http_code}' --max-time 20 -X "$method" \
        "$@" "http://127.0.0.1:$INGEST_PORT$path" 2>/dev/null)" || true
    [ -n "$HTTP_CODE" ] || HTTP_CODE=000
    HTTP_BODY="$(cat "$bf")"
    HTTP_HEADERS="$(tr -d '\r' <"$hf")"
}

# da_req METHOD PATH [curl args...] - like da_raw, with the stack's Basic credentials.
da_req() {
    local method="$1" path="$2"
    shift 2
    da_raw "$method" "$path" -u "$AUTH_USER:$AUTH_PASS" "$@"
}

# da_push DOMAIN ZONEFILE [HOSTNAME] [USERNAME] [curl args...] - rawsave with the zone file as
# the raw body (DOMAIN goes into the URL as given: encode it yourself).
da_push() {
    local domain="$1" file="$2" host="${3:-da1.example.net}" user="${4:-user1}"
    if [ "$#" -ge 4 ]; then
        shift 4
    else
        shift "$#"
    fi
    da_req POST "/CMD_API_DNS_ADMIN?action=rawsave&domain=$domain&hostname=$host&username=$user" \
        --data-binary "@$file" "$@"
}

# da_get QUERY - GET /CMD_API_DNS_ADMIN?QUERY with credentials.
da_get() {
    da_req GET "/CMD_API_DNS_ADMIN?$1"
}

# da_form BODY - POST /CMD_API_DNS_ADMIN with a form body.
da_form() {
    da_req POST "/CMD_API_DNS_ADMIN" --data "$1"
}

# urldecode S - form decoding ('+' is a space, %XX an octet).
urldecode() {
    local s="${1//+/ }"
    printf '%b' "${s//%/\\x}"
}

# http_header NAME - value of a header of the last answer (case-insensitive), or empty.
http_header() {
    printf '%s\n' "$HTTP_HEADERS" | awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
        tolower(substr($0, 1, length(n))) == n { sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}

# make_zone DOMAIN SERIAL [TEMPLATE] - a DirectAdmin push for DOMAIN with SOA serial SERIAL, from
# tests/data/e2e/TEMPLATE (default sample-da-push.db, written for example.com serial 2025031402).
make_zone() {
    sed -e "s/example\\.com/$1/g" -e "s/2025031402/$2/" "$E2E_DATA/${3:-sample-da-push.db}"
}

# make_mysql_zone DOMAIN SERIAL - make_zone's sample push plus the names the MySQL formats
# treat specially: a wildcard (* A 192.0.2.99) and a delegation (sub NS ns.other.net.).
make_mysql_zone() {
    make_zone "$1" "$2"
    printf '\n*\t3600\tIN\tA\t192.0.2.99\nsub\t3600\tIN\tNS\tns.other.net.\n'
}

# sample_dkim - the DKIM TXT value of the sample push: its two quoted strings, space-separated.
sample_dkim() {
    sed -n 's/^x\._domainkey.*( \(".*"\) )$/\1/p' "$E2E_DATA/sample-da-push.db"
}

# ---------------------------------------------------------------------------------------------
# DNS

# dig_serial ZONE - the SOA serial named serves for ZONE, or nothing.
dig_serial() {
    dig +short +norec +time=1 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$1" SOA 2>/dev/null |
        awk 'NR == 1 { print $3 }' || true
}

zone_serves() {
    [ "$(dig_serial "$1")" = "$2" ]
}

# zone_not_served ZONE - named answers, and not with the zone's SOA (REFUSED, SERVFAIL, ...).
zone_not_served() {
    local out
    out="$(dig +norec +time=1 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$1" SOA 2>/dev/null)" ||
        return 1
    printf '%s\n' "$out" | grep -q 'status: ' || return 1
    ! printf '%s\n' "$out" | awk -v z="$1." '$1 == z && $4 == "SOA" { f = 1 } END { exit !f }'
}

include_has() {
    grep -q "^zone \"$1\" " "$INCLUDE_CONF"
}

# ---------------------------------------------------------------------------------------------
# MariaDB, PowerDNS, writer-mysql (issue 3)
#
# One throwaway mariadbd per stack (datadir, socket and pid under $STACK_DIR/mariadb, TCP on a
# free loopback port), a user with a random password that may use the stack's databases, an
# optional pdns_server reading one of them, and any number of dadns-writer-mysql processes, each
# a service named writer-mysql* (log logs/<name>.log) for one backend of the generated config.

MYSQL_WRITER_BIN="$DADNS_BIN_DIR/services/writer-mysql/dadns-writer-mysql"
PDNS_SCHEMA="${DADNS_PDNS_SCHEMA:-/usr/share/pdns-backend-mysql/schema/schema.mysql.sql}"
MARIADB_DIR=""
MARIADB_PORT=""
MARIADB_SOCK=""
MARIADB_USER="dadns"
MARIADB_PASS=""
PDNS_DIR=""
PDNS_PORT=""
PDNS_DB=""
PDNS_PURGE_CMD=""      # post_commit for a backend pdns_server reads: purge {zone}$
PDNS_REDISCOVER_CMD="" # post_create: rediscover

# sbin_path NAME - the path of a daemon that may live in /usr/sbin outside a user's PATH.
sbin_path() {
    if command -v "$1" 2>/dev/null; then
        return 0
    fi
    if [ -x "/usr/sbin/$1" ]; then
        echo "/usr/sbin/$1"
    else
        echo "$1"
    fi
}

mariadb_bins_present() {
    [ -x "$(sbin_path mariadbd)" ] && command -v mariadb-install-db >/dev/null &&
        command -v mariadb >/dev/null
}

# mariadb_as_root_args - mariadbd and mariadb-install-db want --user=root to run as root.
mariadb_as_root_args() {
    if [ "$(id -u)" -eq 0 ]; then
        echo "--user=root"
    fi
    return 0
}

# mariadb_init - choose the stack's MariaDB port, paths and password (once per stack dir).
mariadb_init() {
    [ -n "$STACK_DIR" ] || die "mariadb_init: no stack directory (stack_init first)"
    [ "$MARIADB_DIR" = "$STACK_DIR/mariadb" ] && return 0
    MARIADB_DIR="$STACK_DIR/mariadb"
    MARIADB_SOCK="$MARIADB_DIR/mariadbd.sock"
    if [ "${STACK_USE_ENV:-0}" = 1 ] && [ -n "${DADNS_MARIADB_PORT:-}" ]; then
        MARIADB_PORT="$DADNS_MARIADB_PORT"
    else
        stack_free_port MARIADB_PORT
    fi
    mkdir -p "$MARIADB_DIR"
    if [ ! -s "$STACK_DIR/mariadb.password" ]; then
        (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$STACK_DIR/mariadb.password")
    fi
    MARIADB_PASS="$(cat "$STACK_DIR/mariadb.password")"
}

# mysql_q DB SQL - run SQL as MariaDB root over the socket in database DB ("" = none); prints
# the rows tab-separated, no header, values unescaped (--raw), NULL as "NULL".
mysql_q() {
    local db=()
    [ -n "$1" ] && db=("$1")
    mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot --batch --raw --skip-column-names \
        --connect-timeout=5 "${db[@]}" -e "$2"
}

# mysql_user_q DB SQL - like mysql_q, as the stack's user over TCP (what the writers use).
mysql_user_q() {
    MYSQL_PWD="$MARIADB_PASS" mariadb --no-defaults --protocol=TCP -h 127.0.0.1 \
        -P "$MARIADB_PORT" -u "$MARIADB_USER" --batch --raw --skip-column-names \
        --connect-timeout=5 "$1" -e "$2"
}

# mariadb_ours - the mariadbd answering on our socket is the one we started, on MARIADB_PORT.
mariadb_ours() {
    stack_alive mariadb && [ "$(mysql_q "" 'SELECT @@port' 2>/dev/null)" = "$MARIADB_PORT" ]
}

# stack_start_mariadb [DB...] - start the stack's mariadbd (initialising the datadir the first
# time; a restart after a stop or a kill reuses it), wait until it answers, then create the
# databases DB... and the stack's user with every privilege on them (both idempotent).
# MARIADB_EXTRA_ARGS (words) are added to mariadbd's command line.
stack_start_mariadb() {
    local root extra=()
    mariadb_init
    root="$(mariadb_as_root_args)"
    if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
        # shellcheck disable=SC2086 # $root is one word or none
        mariadb-install-db --no-defaults --datadir="$MARIADB_DIR/data" \
            --auth-root-authentication-method=normal --skip-test-db $root \
            >>"$STACK_DIR/logs/mariadb-install.log" 2>&1 ||
            die "mariadb-install-db failed (log: $STACK_DIR/logs/mariadb-install.log)"
    fi
    if [ -n "${MARIADB_EXTRA_ARGS:-}" ]; then
        read -r -a extra <<<"$MARIADB_EXTRA_ARGS"
    fi
    # shellcheck disable=SC2086
    stack_spawn mariadb "$(sbin_path mariadbd)" --no-defaults --datadir="$MARIADB_DIR/data" \
        --socket="$MARIADB_SOCK" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
        --skip-name-resolve --pid-file="$MARIADB_DIR/mariadbd.pid" $root "${extra[@]}"
    wait_until 30 mariadb_ours ||
        die "mariadbd did not start on port $MARIADB_PORT (log: $STACK_DIR/logs/mariadb.log)"
    mariadb_add_databases "$@"
}

# mariadb_add_databases DB... - create the databases (names [a-z0-9_]) and grant the stack's
# user (at 127.0.0.1 and localhost) every privilege on them.
mariadb_add_databases() {
    local db sql u
    sql="CREATE USER IF NOT EXISTS '$MARIADB_USER'@'127.0.0.1' IDENTIFIED BY '$MARIADB_PASS';
CREATE USER IF NOT EXISTS '$MARIADB_USER'@'localhost' IDENTIFIED BY '$MARIADB_PASS';"
    for db in "$@"; do
        [[ "$db" =~ ^[a-z0-9_]{1,64}$ ]] || die "bad database name '$db'"
        sql="$sql
CREATE DATABASE IF NOT EXISTS \`$db\`;"
        for u in 127.0.0.1 localhost; do
            sql="$sql
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$MARIADB_USER'@'$u';"
        done
    done
    mysql_q "" "$sql" || die "cannot create databases $* on mariadbd"
}

# stack_kill NAME - SIGKILL, reap, forget (a crash, for outage tests).
stack_kill() {
    local pid="${STACK_PIDS[$1]:-}"
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "STACK_PIDS[$1]"
}

# mariadb_load_pdns_schema DB - create PowerDNS's gmysql tables in DB (Debian's schema file)
# unless DB has a domains table already.
mariadb_load_pdns_schema() {
    [ -r "$PDNS_SCHEMA" ] || die "missing $PDNS_SCHEMA (pdns-backend-mysql)"
    if [ -z "$(mysql_q "$1" "SHOW TABLES LIKE 'domains'")" ]; then
        mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot "$1" <"$PDNS_SCHEMA" ||
            die "cannot load $PDNS_SCHEMA into $1"
    fi
}

pdns_ctl() {
    pdns_control --config-dir="$PDNS_DIR" "$@"
}

# pdns_ours - our pdns_server bound DNS on PDNS_PORT, is ready and answers its control socket.
pdns_ours() {
    local log
    stack_alive pdns || return 1
    log="$(stack_log_since_start pdns)"
    grep -q "UDP server bound to 127.0.0.1:$PDNS_PORT\$" <<<"$log" &&
        grep -q "ready to distribute questions" <<<"$log" &&
        [ "$(pdns_ctl rping 2>/dev/null)" = PONG ]
}

# stack_start_pdns DB - pdns_server on a free loopback port (config dir $STACK_DIR/pdns) with the
# gmysql backend on DB of the stack's MariaDB as the stack's user, every cache off, no DNSSEC;
# loads the PowerDNS schema into DB when needed. Sets PDNS_PORT, PDNS_DIR, PDNS_DB and the hook
# commands PDNS_PURGE_CMD / PDNS_REDISCOVER_CMD (absolute pdns_control, no shell).
stack_start_pdns() {
    local db="$1" ctl
    command -v pdns_control >/dev/null || die "pdns_control not installed (make deps)"
    mariadb_load_pdns_schema "$db"
    if [ "$PDNS_DIR" != "$STACK_DIR/pdns" ]; then
        PDNS_DIR="$STACK_DIR/pdns"
        if [ "${STACK_USE_ENV:-0}" = 1 ] && [ -n "${DADNS_PDNS_PORT:-}" ]; then
            PDNS_PORT="$DADNS_PDNS_PORT"
        else
            stack_free_port PDNS_PORT
        fi
    fi
    PDNS_DB="$db"
    mkdir -p "$PDNS_DIR"
    (umask 077 && cat >"$PDNS_DIR/pdns.conf" <<PDNSCONF
# generated by dadns lib.sh: PowerDNS (gmysql) on loopback, caches off
launch=gmysql
gmysql-host=127.0.0.1
gmysql-port=$MARIADB_PORT
gmysql-dbname=$db
gmysql-user=$MARIADB_USER
gmysql-password=$MARIADB_PASS
gmysql-dnssec=no
local-address=127.0.0.1
local-port=$PDNS_PORT
socket-dir=$PDNS_DIR
daemon=no
guardian=no
write-pid=no
disable-syslog=yes
log-timestamp=yes
webserver=no
api=no
security-poll-suffix=
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
zone-cache-refresh-interval=0
PDNSCONF
    )
    ctl="$(command -v pdns_control)"
    PDNS_PURGE_CMD="$ctl --config-dir=$PDNS_DIR purge {zone}\$"
    PDNS_REDISCOVER_CMD="$ctl --config-dir=$PDNS_DIR rediscover"
    stack_spawn pdns "$(sbin_path pdns_server)" --config-dir="$PDNS_DIR"
    wait_until 20 pdns_ours ||
        die "pdns_server did not start on port $PDNS_PORT (log: $STACK_DIR/logs/pdns.log)"
}

# pdns_log_clean - pdns_server logged no "Exception building answer packet" (a row it could not
# parse) and no backend error since it started.
pdns_log_clean() {
    ! stack_log_since_start pdns | grep -E 'Exception building answer packet|Backend reported'
}

# yaml_scalar VALUE - VALUE as a YAML scalar: bare when plainly safe, else double-quoted.
yaml_scalar() {
    local v="$1"
    if [[ "$v" =~ ^[A-Za-z0-9_./-]+$ ]]; then
        printf '%s' "$v"
    else
        v="${v//\\/\\\\}"
        printf '"%s"' "${v//\"/\\\"}"
    fi
}

# stack_writer_option KEY VALUE - set writer.KEY in the generated dadns.yaml (before starting
# the writers; e.g. retry_interval_s 1).
stack_writer_option() {
    local line
    line="  $1: $(yaml_scalar "$2")"
    KEYLINE="$line" awk -v k="  $1:" '
        /^[^ #]/ { if (sec == "writer:" && !done) { print ENVIRON["KEYLINE"]; done = 1 }
                   sec = $0 }
        sec == "writer:" && index($0, k) == 1 { if (!done) print ENVIRON["KEYLINE"]; done = 1; next }
        { print }
        END { if (sec == "writer:" && !done) print ENVIRON["KEYLINE"] }' \
        "$DADNS_CONF" >"$DADNS_CONF.tmp"
    mv "$DADNS_CONF.tmp" "$DADNS_CONF"
}

# stack_add_mysql_backend NAME TYPE DB [KEY=VALUE...] - append dns.backends.NAME (TYPE
# coredns_mysql or powerdns_mysql) on database DB of the stack's MariaDB to the generated
# dadns.yaml: TCP 127.0.0.1:MARIADB_PORT, the stack's user and password, init_schema true,
# connect_timeout_s 5; KEY=VALUE pairs override those or add keys (e.g. socket=...,
# post_commit="$PDNS_PURGE_CMD"; KEY= with nothing drops a default key).
stack_add_mysql_backend() {
    local name="$1" type="$2" db="$3" kv k
    shift 3
    mariadb_init
    local -a keys=(type host port user password database init_schema connect_timeout_s)
    local -A val=([type]="$type" [host]=127.0.0.1 [port]="$MARIADB_PORT" [user]="$MARIADB_USER"
        [password]="$MARIADB_PASS" [database]="$db" [init_schema]=true [connect_timeout_s]=5)
    for kv in "$@"; do
        k="${kv%%=*}"
        [ -n "${val[$k]+set}" ] || keys+=("$k")
        val[$k]="${kv#*=}"
    done
    {
        printf '    %s:\n' "$name"
        for k in "${keys[@]}"; do
            if [ -n "${val[$k]}" ]; then
                printf '      %s: %s\n' "$k" "$(yaml_scalar "${val[$k]}")"
            fi
        done
    } >>"$DADNS_CONF"
}

# writer_mysql_consumer [VAR=value...] - the consumer name a writer started with that
# environment uses (DADNS_WRITER_CONSUMER_NAME, else writer.consumer_name of the config).
writer_mysql_consumer() {
    local kv
    for kv in "$@"; do
        case "$kv" in DADNS_WRITER_CONSUMER_NAME=*)
            echo "${kv#*=}"
            return
            ;;
        esac
    done
    awk '/^[^ #]/ { sec = $0 } sec == "writer:" && $1 == "consumer_name:" {
        v = $0; sub(/^[^:]*:[ \t]*/, "", v); gsub(/^"|"$/, "", v); print v; exit }' "$DADNS_CONF"
}

# stack_spawn_writer_mysql NAME BACKEND [VAR=value...] - start dadns-writer-mysql -b BACKEND as
# service NAME (must start with "writer-mysql"), extra environment given as VAR=value (e.g.
# DADNS_WRITER_CONSUMER_NAME=r2 for a second replica in the same group), without waiting; prints
# nothing, sets WRITER_MYSQL_CONSUMER to the consumer name it will use. STACK_WRITER_MYSQL_ARGS
# (words) are added to the command line (e.g. --init-schema).
stack_spawn_writer_mysql() {
    local name="$1" be="$2" filter extra=()
    shift 2
    case "$name" in
    writer-mysql*) ;;
    *) die "writer-mysql service names start with writer-mysql (got $name)" ;;
    esac
    [ -x "$MYSQL_WRITER_BIN" ] || die "missing $MYSQL_WRITER_BIN (build first)"
    if [ -n "${STACK_WRITER_MYSQL_ARGS:-}" ]; then
        read -r -a extra <<<"$STACK_WRITER_MYSQL_ARGS"
    fi
    WRITER_MYSQL_CONSUMER="$(writer_mysql_consumer "$@")"
    mapfile -t filter < <(stack_env_filter)
    stack_metrics_port "$name"
    stack_spawn "$name" env "${filter[@]}" DADNS_METRICS_PORT="${STACK_METRICS_PORTS[$name]}" "$@" \
        "$MYSQL_WRITER_BIN" -c "$DADNS_CONF" -b "$be" "${extra[@]}"
}

# stack_start_writer_mysql NAME BACKEND [VAR=value...] - stack_spawn_writer_mysql, then wait
# until it runs and its consumer is registered in group BACKEND.
stack_start_writer_mysql() {
    stack_spawn_writer_mysql "$@"
    wait_until 30 writer_mysql_ready "$1" "$2" "$WRITER_MYSQL_CONSUMER" ||
        die "dadns-writer-mysql $1 (-b $2) not ready (log: $STACK_DIR/logs/$1.log)"
}

# writer_mysql_ready NAME GROUP CONSUMER - NAME runs and CONSUMER is registered in GROUP.
writer_mysql_ready() {
    stack_alive "$1" &&
        redis_cli XINFO CONSUMERS dadns:changes "$2" 2>/dev/null | grep -qxF -- "$3"
}

# group_info GROUP - "<pending> <last-delivered-id>" of consumer group GROUP.
group_info() {
    redis_cli XINFO GROUPS dadns:changes 2>/dev/null | awk -v g="$1" '
        NR % 2 == 1 { k = $0; next }
        k == "name" { cur = $0 }
        cur == g && k == "pending" { p = $0 }
        cur == g && k == "last-delivered-id" { l = $0 }
        END { print p " " l }'
}

# group_pending GROUP - how many entries GROUP has delivered and not acknowledged.
group_pending() {
    redis_cli XPENDING dadns:changes "$1" 2>/dev/null | head -n 1
}

# stream_last_id - the id of the newest stream entry, or nothing.
stream_last_id() {
    redis_cli XREVRANGE dadns:changes + - COUNT 1 2>/dev/null | head -n 1
}

# group_drained GROUP - GROUP has read every stream entry and acknowledged them all.
group_drained() {
    local last
    last="$(stream_last_id)"
    [ -z "$last" ] && return 0
    [ "$(group_info "$1")" = "0 $last" ]
}

# group_read_all GROUP - GROUP has been delivered the newest stream entry (acked or not).
group_read_all() {
    local last
    last="$(stream_last_id)"
    [ -z "$last" ] && return 0
    [ "$(group_info "$1" | awk '{ print $2 }')" = "$last" ]
}

# redis_zone_field ZONE FIELD - a field of the zone's state hash in Redis.
redis_zone_field() {
    redis_cli HGET "dadns:zone:$1" "$2" 2>/dev/null
}

# mysql_state DB ZONE [TABLE] - "version serial deleted" of ZONE in the writer's state table
# (default dadns_state), or nothing. The zone is looked up with and without a trailing dot.
mysql_state() {
    mysql_q "$1" "SELECT version, serial, deleted FROM \`${3:-dadns_state}\`
        WHERE zone IN ('$2', '$2.') LIMIT 1" 2>/dev/null | tr '\t' ' '
}

# mysql_converged DB ZONE - the state table of DB has ZONE at the version Redis holds (deleted
# when Redis has a tombstone).
mysql_converged() {
    local v d
    v="$(redis_zone_field "$2" version)"
    d="$(redis_zone_field "$2" deleted)"
    [ -n "$v" ] || return 1
    [ "$(mysql_state "$1" "$2" | awk '{ print $1 " " $3 }')" = "$v ${d:-0}" ]
}

# pdns_dig NAME TYPE [dig options...] - full dig output from our pdns_server.
pdns_dig() {
    dig +norec +time=1 +tries=2 -p "$PDNS_PORT" @127.0.0.1 "$@" 2>/dev/null || true
}

# pdns_short NAME TYPE - dig +short from our pdns_server, lines sorted.
pdns_short() {
    { dig +short +norec +time=1 +tries=2 -p "$PDNS_PORT" @127.0.0.1 "$@" 2>/dev/null || true; } |
        LC_ALL=C sort
}

# pdns_status NAME TYPE - the rcode of pdns_server's answer (NOERROR, NXDOMAIN, REFUSED, ...).
pdns_status() {
    pdns_dig "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -n 1
}

# pdns_serial ZONE - the SOA serial pdns_server serves for ZONE, or nothing.
pdns_serial() {
    { dig +short +norec +time=1 +tries=2 -p "$PDNS_PORT" @127.0.0.1 "$1" SOA 2>/dev/null ||
        true; } | awk 'NR == 1 { print $3 }'
}

pdns_serves() {
    [ "$(pdns_serial "$1")" = "$2" ]
}

# pdns_not_served ZONE - pdns_server answers REFUSED or NXDOMAIN for the zone's SOA.
pdns_not_served() {
    case "$(pdns_status "$1" SOA)" in REFUSED | NXDOMAIN) return 0 ;; esac
    return 1
}

# ---------------------------------------------------------------------------------------------
# Assertions

# check DESCRIPTION CMD... - run CMD; count and print a pass or a failure.
check() {
    local desc="$1"
    shift
    if "$@"; then
        E2E_PASS=$((E2E_PASS + 1))
        printf 'ok %d - %s\n' "$((E2E_PASS + E2E_FAIL))" "$desc"
    else
        E2E_FAIL=$((E2E_FAIL + 1))
        printf 'not ok %d - %s\n' "$((E2E_PASS + E2E_FAIL))" "$desc"
        if [ -n "$HTTP_CODE" ]; then
            printf '#   last HTTP answer: %s %s\n' "$HTTP_CODE" "$HTTP_BODY"
        fi
    fi
    return 0
}

# eq GOT WANT - string equality, explains a mismatch on stdout.
eq() {
    if [ "$1" = "$2" ]; then
        return 0
    fi
    printf '#   got:  %q\n#   want: %q\n' "$1" "$2"
    return 1
}

# has HAYSTACK NEEDLE - substring test, explains a miss.
has() {
    case "$1" in *"$2"*) return 0 ;; esac
    printf '#   %q does not contain %q\n' "$1" "$2"
    return 1
}

# lacks HAYSTACK NEEDLE - HAYSTACK does not contain NEEDLE.
lacks() {
    case "$1" in *"$2"*)
        printf '#   %q contains %q\n' "$1" "$2"
        return 1
        ;;
    esac
    return 0
}

# code_is WANT - the last HTTP status is WANT.
code_is() {
    eq "$HTTP_CODE" "$1"
}

# ---------------------------------------------------------------------------------------------
# Test life cycle

# e2e_begin [VAR=value...] - start a full stack in a fresh temporary directory (extra
# environment goes to ingest) and arrange cleanup on exit.
e2e_begin() {
    command -v redis-server >/dev/null || die "redis-server not installed (make deps)"
    command -v named >/dev/null || die "named not installed (make deps)"
    [ -x "$INGEST_BIN" ] || die "missing $INGEST_BIN: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    [ -x "$WRITER_BIN" ] || die "missing $WRITER_BIN: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    e2e_enter
    log_note "stack in $STACK_DIR: redis $REDIS_PORT, dns $DNS_PORT, rndc $RNDC_PORT, ingest $INGEST_PORT"
    stack_start_all "$@"
}

# e2e_enter - a fresh temporary stack directory (stack_init) and the traps that stop everything
# and remove it on exit.
e2e_enter() {
    local dir
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dadns-e2e.XXXXXX")"
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    trap 'exit 141' PIPE
    stack_init "$dir"
}

# e2e_begin_mysql DB... - the MySQL stack without named and writer-bind: Redis, ingest and a
# throwaway MariaDB holding the databases DB... (the stack's user may use them all). The test
# then starts pdns_server (stack_start_pdns), appends its backends (stack_add_mysql_backend) and
# starts their writers (stack_start_writer_mysql).
e2e_begin_mysql() {
    command -v redis-server >/dev/null || die "redis-server not installed (make deps)"
    mariadb_bins_present || die "mariadbd / mariadb-install-db / mariadb not installed (make deps)"
    [ -x "$INGEST_BIN" ] || die "missing $INGEST_BIN: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    [ -x "$MYSQL_WRITER_BIN" ] ||
        die "missing $MYSQL_WRITER_BIN: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    e2e_enter
    stack_start_redis
    stack_start_ingest
    stack_start_mariadb "$@"
    log_note "stack in $STACK_DIR: redis $REDIS_PORT, ingest $INGEST_PORT, mariadb $MARIADB_PORT"
}

e2e_dump_logs() {
    local f
    for f in "$STACK_DIR"/logs/*.log; do
        [ -e "$f" ] || continue
        printf '# ---- last lines of %s\n' "$(basename "$f")"
        tail -n 40 "$f" | sed 's/^/#   /'
    done
}

# e2e_sanitizer_clean - no ASan/UBSan/LSan report in the service logs.
e2e_sanitizer_clean() {
    ! grep -E -l 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$STACK_DIR/logs/ingest.log" "$STACK_DIR/logs/writer.log" \
        "$STACK_DIR"/logs/writer-mysql*.log 2>/dev/null
}

e2e_cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    # The output may be gone (| head, closed terminal): whatever fails, stop everything and
    # remove the directory.
    trap '' PIPE
    set +e
    if [ "$E2E_FINISHED" != 1 ]; then
        E2E_FAIL=$((E2E_FAIL + 1))
        printf 'not ok - test script stopped early (exit status %d)\n' "$rc"
        STACK_CHECK_EXIT=0 stack_stop_all
        [ -n "$STACK_DIR" ] && e2e_dump_logs
        printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
        rc=1
    fi
    if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR" ]; then
        if [ "${DADNS_E2E_KEEP:-0}" = 1 ]; then
            log_note "kept $STACK_DIR"
        else
            rm -rf "$STACK_DIR"
        fi
    fi
    exit "$rc"
}

# e2e_finish - stop the stack (checking clean exits and sanitizer reports), print the summary
# line "N passed, M failed" and exit non-zero on any failure.
e2e_finish() {
    STACK_CHECK_EXIT=1 stack_stop_all
    check "no sanitizer report in the service logs" e2e_sanitizer_clean
    if [ "$E2E_FAIL" -gt 0 ]; then
        e2e_dump_logs
    fi
    E2E_FINISHED=1
    printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
    if [ "$E2E_FAIL" -gt 0 ]; then
        exit 1
    fi
    exit 0
}
