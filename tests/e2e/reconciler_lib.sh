# reconciler_lib.sh -- the stack of the reconciler's end-to-end tests (tests/e2e/test_reconciler*.sh):
# lib.sh's Redis, named, ingest and writer-bind, plus MariaDB, pdns_server and writer-mysql
# (backend "mysql", powerdns_mysql), three fake DirectAdmin servers (tests/fakeda, loopback) and
# the directadmin/reconciler sections of the generated configuration; helpers to run
# dadns-reconciler once or as a service and to read its summary.
#
# Sourced after lib.sh. Inputs (environment): DADNS_BIN_DIR as lib.sh; DADNSCTL_BIN (default
# $DADNS_BIN_DIR/services/dadnsctl/dadnsctl).

: "${DADNSCTL_BIN:=$DADNS_BIN_DIR/services/dadnsctl/dadnsctl}"
REC_BIN="$DADNS_BIN_DIR/services/reconciler/dadns-reconciler"
FAKEDA_BIN="$DADNS_BIN_DIR/tests/fakeda"
REC_DB=rec_pd        # the powerdns_mysql database (pdns_server reads it)
REC_DA_DIR=""        # $STACK_DIR/da: the fake servers' zone lists and mode files
REC_OUT=""           # output of the last rec_once
REC_RC=""            # its exit status
REC_METRICS_PORT=""  # the service's admin listener (rec_start)
declare -A DA_PORT=() # da1 da2 da3 -> port

rec_require_bins() {
    local b
    for b in "$REC_BIN" "$FAKEDA_BIN" "$DADNSCTL_BIN" "$MYSQL_WRITER_BIN"; do
        [ -x "$b" ] || die "missing $b: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    done
    command -v redis-server >/dev/null || die "redis-server not installed (make deps)"
    command -v named >/dev/null || die "named not installed (make deps)"
    command -v jq >/dev/null || die "jq not installed"
    mariadb_bins_present || die "mariadbd / mariadb-install-db / mariadb not installed (make deps)"
    command -v pdns_control >/dev/null || die "pdns_control not installed (make deps)"
}

# fakeda_up NAME - the fake server NAME printed its port (it listens).
fakeda_up() {
    stack_alive "fakeda-$1" && stack_log_since_start "fakeda-$1" | grep -qx "${DA_PORT[$1]}"
}

# da_start NAME - a fake DirectAdmin on a free port, zones from $REC_DA_DIR/NAME.zones, mode from
# $REC_DA_DIR/NAME.mode when that file exists (json otherwise), one walk's list from
# $REC_DA_DIR/NAME.once when that file exists (da_once).
da_start() {
    local port
    stack_free_port port
    DA_PORT[$1]="$port"
    touch "$REC_DA_DIR/$1.zones"
    stack_spawn "fakeda-$1" "$FAKEDA_BIN" -z "$REC_DA_DIR/$1.zones" -M "$REC_DA_DIR/$1.mode" \
        -O "$REC_DA_DIR/$1.once" -p "$port" -u admin -P "secret-$1"
    wait_until 10 fakeda_up "$1" || die "fakeda $1 did not start (log: $STACK_DIR/logs/fakeda-$1.log)"
}

# da_lists NAME ZONE... - what fake server NAME lists from now on (nothing when no ZONE).
da_lists() {
    local n="$1"
    shift
    if [ "$#" -gt 0 ]; then
        printf '%s\n' "$@" >"$REC_DA_DIR/$n.zones.tmp"
    else
        : >"$REC_DA_DIR/$n.zones.tmp"
    fi
    mv "$REC_DA_DIR/$n.zones.tmp" "$REC_DA_DIR/$n.zones"
}

# da_once NAME LINE... - the next listing walk of fake server NAME (only that one) lists these
# zones; "@mode MODE" and "@delay S" lines set that walk's mode and a sleep per answer.
da_once() {
    local n="$1"
    shift
    printf '%s\n' "$@" >"$REC_DA_DIR/$n.once.tmp"
    mv "$REC_DA_DIR/$n.once.tmp" "$REC_DA_DIR/$n.once"
}

# da_mode NAME MODE - json, dead, empty, html, ... (fakeda -m); "json" removes the mode file.
da_mode() {
    if [ "$2" = json ]; then
        rm -f "$REC_DA_DIR/$1.mode"
    else
        printf '%s\n' "$2" >"$REC_DA_DIR/$1.mode"
    fi
}

# rec_write_config - the directadmin and reconciler sections (and metrics off for every process
# that reads the file from now on; the reconciler service gets its port from the environment).
rec_write_config() {
    local n
    {
        printf 'directadmin:\n  servers:\n'
        for n in da1 da2 da3; do
            printf '    %s:\n      host: 127.0.0.1\n      port: %s\n      user: admin\n' \
                "$n" "${DA_PORT[$n]}"
            printf '      password: secret-%s\n      tls: false\n      timeout_s: 5\n' "$n"
            printf '      hostname: %s.example.net\n      page_size: 3\n' "$n"
        done
        printf 'reconciler:\n  interval_s: 3600\n  initial_delay_s: 3600\n'
        printf '  max_delete_percent: 40\n  inventory_timeout_s: 30\n  lock_ttl_s: 60\n'
        printf '  tombstone_retention_s: 86400\n'
        if ! grep -q '^metrics:' "$DADNS_CONF"; then
            printf 'metrics:\n  listen_addr: 127.0.0.1\n  port: 0\n'
        fi
    } >>"$DADNS_CONF"
}

# rec_begin - the whole stack: Redis, named, ingest, MariaDB + pdns_server, writer-bind (its SOA
# queries aimed at the stack's named), writer-mysql, three fake DirectAdmin servers listing
# nothing yet, and the configuration.
rec_begin() {
    rec_require_bins
    e2e_enter
    log_note "stack in $STACK_DIR: redis $REDIS_PORT, dns $DNS_PORT, rndc $RNDC_PORT, ingest $INGEST_PORT"
    REC_DA_DIR="$STACK_DIR/da"
    mkdir -p "$REC_DA_DIR"
    stack_start_redis
    stack_start_named
    stack_start_ingest
    stack_writer_option retry_interval_s 1
    stack_writer_option retry_base_s 1
    stack_start_mariadb "$REC_DB"
    stack_start_pdns "$REC_DB"
    stack_add_mysql_backend mysql powerdns_mysql "$REC_DB"
    stack_start_writer DADNS_DNS_BACKENDS_BIND_QUERY_PORT="$DNS_PORT"
    stack_spawn_writer_mysql writer-mysql mysql
    wait_until 30 eval 'stack_alive writer-mysql && stack_log_since_start writer-mysql | grep -q "consumer ready"' ||
        die "dadns-writer-mysql not ready (log: $STACK_DIR/logs/writer-mysql.log)"
    da_start da1
    da_start da2
    da_start da3
    rec_write_config
    log_note "fake DirectAdmin: da1 ${DA_PORT[da1]}, da2 ${DA_PORT[da2]}, da3 ${DA_PORT[da3]};" \
        "mariadb $MARIADB_PORT, pdns $PDNS_PORT"
}

# rec_env - env(1) arguments that hide the caller's DADNS_* variables from a service.
rec_env() {
    stack_env_filter
}

# rec_once [VAR=value...] [-- ARGS...] - dadns-reconciler --once ARGS with that environment;
# REC_RC = its exit status, REC_OUT = what it logged (also appended to logs/reconciler-once.log).
rec_once() {
    local filter vars=() args=()
    while [ "$#" -gt 0 ]; do
        if [ "$1" = -- ]; then
            shift
            args=("$@")
            break
        fi
        vars+=("$1")
        shift
    done
    mapfile -t filter < <(rec_env)
    REC_RC=0
    REC_OUT="$(env "${filter[@]}" "${vars[@]}" "$REC_BIN" -c "$DADNS_CONF" --once "${args[@]}" 2>&1)" ||
        REC_RC=$?
    printf '%s\n' "$REC_OUT" >>"$STACK_DIR/logs/reconciler-once.log"
}

# rec_start [VAR=value...] - dadns-reconciler as a service (passes only on request: initial
# delay and interval are an hour), admin listener on the port stack_metrics_port chose
# (REC_METRICS_PORT).
rec_start() {
    local filter
    stack_metrics_port reconciler
    REC_METRICS_PORT="${STACK_METRICS_PORTS[reconciler]}"
    mapfile -t filter < <(rec_env)
    stack_spawn reconciler env "${filter[@]}" DADNS_METRICS_PORT="$REC_METRICS_PORT" "$@" \
        "$REC_BIN" -c "$DADNS_CONF"
    wait_until 20 rec_ready || die "dadns-reconciler not ready (log: $STACK_DIR/logs/reconciler.log)"
}

rec_ready() {
    stack_alive reconciler &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "http://127.0.0.1:$REC_METRICS_PORT/readyz")" = 200 ]
}

# rec_metric SERIES - the value of one series of the service's /metrics (exact name with
# labels, e.g. 'dadns_reconciler_runs_total{result="ok"}'), or nothing.
rec_metric() {
    curl -s --max-time 5 "http://127.0.0.1:$REC_METRICS_PORT/metrics" |
        awk -v s="$1" '$1 == s { print $2; exit }'
}

# rec_last FILTER - jq FILTER applied to P reconciler:last (e.g. .republished.bind).
rec_last() {
    redis_cli GET dadns:reconciler:last | jq -r "$1"
}

# dadnsctl_cmd ARGS... - dadnsctl with the stack's configuration.
dadnsctl_cmd() {
    local filter
    mapfile -t filter < <(rec_env)
    env "${filter[@]}" "$DADNSCTL_BIN" -c "$DADNS_CONF" "$@"
}

# push_zone ZONE SERIAL HOST - a DirectAdmin push from HOST (user u-HOST); 1 unless error=0.
push_zone() {
    make_zone "$1" "$2" >"$STACK_DIR/push.db"
    da_push "$1" "$STACK_DIR/push.db" "$3" "u-$3"
    [ "$HTTP_BODY" = "error=0" ]
}

# delete_zone ZONE HOST - a DirectAdmin delete from HOST; 1 unless error=0.
delete_zone() {
    da_form "action=delete&select0=$1&hostname=$2&username=u-$2"
    [ "$HTTP_BODY" = "error=0" ]
}

# settled - both writers have read and acknowledged every stream entry.
settled() {
    group_drained bind && group_drained mysql
}

# served_everywhere ZONE SERIAL - named and pdns_server serve ZONE with SERIAL and the MySQL
# state row is at the stored version.
served_everywhere() {
    zone_serves "$1" "$2" && pdns_serves "$1" "$2" && mysql_converged "$REC_DB" "$1"
}

# gone_everywhere ZONE - neither named nor pdns_server serve ZONE, no zone file, no include line.
gone_everywhere() {
    zone_not_served "$1" && pdns_not_served "$1" && [ ! -e "$ZONES_DIR/$1.db" ] &&
        ! include_has "$1"
}

# zone_live ZONE - Redis holds ZONE live (deleted=0 and a member of dadns:zones).
zone_live() {
    [ "$(redis_zone_field "$1" deleted)" = 0 ] &&
        [ "$(redis_cli SISMEMBER dadns:zones "$1")" = 1 ]
}

# rec_log_has REGEX - the last rec_once logged a line matching REGEX.
rec_log_has() {
    grep -Eq "$1" <<<"$REC_OUT"
}
