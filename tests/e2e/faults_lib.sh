# faults_lib.sh -- the fault-injection scenarios of issue 4, shared by tests/e2e/test_fault_*.sh
# (ctest: small zone counts, a few dozen seconds each) and bench/faults.sh (the figures of
# docs/reliability.md: larger counts).
#
# Sourced after lib.sh. Each fl_scenario_* starts its own throwaway stack (lib.sh), pushes a
# known set of zones as DirectAdmin would (curl), injects one fault, recovers from it and checks
# that every backend serves exactly the latest accepted version of every zone: dig for the SOA
# serial each DNS server serves (named, pdns_server), Redis for what was stored, the applied
# hash (and the MySQL state table) for what each writer recorded; nothing older, nothing lost,
# deleted zones gone. It then reports one figures line per recovery (fl_report).
#
# Inputs (environment): FL_ZONES (zone count, else the scenario's default), FL_REPORT (a file
# that receives "fault|zones pushed|converged|lost|seconds|pushes ok/sent" lines; unset: none),
# DADNSCTL_BIN (default $DADNS_BIN_DIR/services/dadnsctl/dadnsctl).

: "${DADNSCTL_BIN:=$DADNS_BIN_DIR/services/dadnsctl/dadnsctl}"

FL_HOST=da1.example.net # every push comes from this DirectAdmin server and user
FL_USER=user1
FL_WORKERS=4 # concurrent curl processes per push round
FL_DIR=""    # $STACK_DIR/fl: zone texts, curl configs, answers, verification files
FL_BATCH=0
FL_PUSH_OPS=""
FL_PUSH_PIDS=()
FL_PUSH_RES=()
declare -A FL_WANT=() # zone -> serial of its last push answered error=0, "-" = deleted
declare -A FL_ALT=()  # zone -> states (serials, "-") of later pushes not answered error=0
FL_SENT=0             # requests sent / answered error=0 / answered anything else
FL_ACCEPTED=0
FL_REFUSED=0
FL_REP_ACC=0 # FL_ACCEPTED / FL_SENT at the previous fl_report
FL_REP_SENT=0
FL_EXCLUDE="" # zones fl_verify ignores (space-separated; e.g. dead-lettered on purpose)
FL_N=0        # set by fl_verify: zones checked, converged, not converged
FL_OK=0
FL_LOST=0
FL_DIAG=""  # fl_verify: the first mismatches, one per line
FL_T0=""    # fl_mark: when the recovery happened ($EPOCHREALTIME)
FL_CONV_S="" # fl_wait_converged: seconds from FL_T0 to convergence, or "timeout"

# ---------------------------------------------------------------------------------------------
# Stack

# fl_init - the scenario's work directory and a clean slate (after e2e_enter).
fl_init() {
    FL_DIR="$STACK_DIR/fl"
    mkdir -p "$FL_DIR/z"
    FL_BATCH=0
    FL_WANT=()
    FL_ALT=()
    FL_SENT=0
    FL_ACCEPTED=0
    FL_REFUSED=0
    FL_REP_ACC=0
    FL_REP_SENT=0
    FL_EXCLUDE=""
}

# fl_require_bins - die unless the services and the DNS tools are there.
fl_require_bins() {
    local b
    for b in redis-server named dig curl rndc; do
        command -v "$b" >/dev/null || die "$b not installed (make deps)"
    done
    for b in "$INGEST_BIN" "$WRITER_BIN"; do
        [ -x "$b" ] || die "missing $b: build first (DADNS_BIN_DIR=$DADNS_BIN_DIR)"
    done
}

# fl_require_mysql_bins - die unless MariaDB, PowerDNS and writer-mysql are there.
fl_require_mysql_bins() {
    mariadb_bins_present || die "mariadbd / mariadb-install-db / mariadb not installed (make deps)"
    command -v pdns_control >/dev/null || die "pdns_control not installed (make deps)"
    [ -x "$MYSQL_WRITER_BIN" ] || die "missing $MYSQL_WRITER_BIN: build first"
}

# fl_begin [VAR=value...] - a fresh stack directory with Redis, named and dadns-ingest (extra
# environment goes to ingest); the writers are started by the scenario once it has set the
# writer options.
# shellcheck disable=SC2120 # the scenarios call it without arguments
fl_begin() {
    fl_require_bins
    e2e_enter
    log_note "stack in $STACK_DIR: redis $REDIS_PORT, dns $DNS_PORT, rndc $RNDC_PORT," \
        "ingest $INGEST_PORT"
    stack_start_redis
    stack_start_named
    stack_start_ingest "$@"
    fl_init
}

# fl_writer_options KEY VALUE... - writer.KEY settings of the generated configuration.
fl_writer_options() {
    while [ "$#" -ge 2 ]; do
        stack_writer_option "$1" "$2"
        shift 2
    done
}

# fl_writer_mysql_up NAME GROUP CONSUMER - NAME runs and its consumer is registered in GROUP or
# it logged "consumer ready" since it started (Redis 7.0 registers a consumer only once a read
# delivered something to it or it claimed).
fl_writer_mysql_up() {
    writer_mysql_ready "$@" ||
        { stack_alive "$1" && stack_log_since_start "$1" | grep -q 'consumer ready'; }
}

# fl_start_writer_mysql NAME BACKEND [VAR=value...] - stack_spawn_writer_mysql, then wait until
# it is up (fl_writer_mysql_up).
fl_start_writer_mysql() {
    stack_spawn_writer_mysql "$@"
    wait_until 30 fl_writer_mysql_up "$1" "$2" "$WRITER_MYSQL_CONSUMER" ||
        die "dadns-writer-mysql $1 (-b $2) not ready (log: $STACK_DIR/logs/$1.log)"
}

# fl_freeze_holding TIMEOUT_S NAME GROUP CONSUMER - SIGSTOP service NAME at a moment when
# CONSUMER of GROUP holds pending entries (checked again once frozen: a frozen consumer cannot
# acknowledge); 1 when that did not happen within TIMEOUT_S (NAME then runs).
fl_freeze_holding() {
    local deadline=$(($(now_ns) + $1 * 1000000000)) pid
    pid="$(stack_pid "$2")"
    while [ "$(now_ns)" -lt "$deadline" ]; do
        if [ "$(fl_consumer_pending "$3" "$4")" -gt 0 ]; then
            kill -STOP "$pid"
            [ "$(fl_consumer_pending "$3" "$4")" -eq 0 ] || return 0
            kill -CONT "$pid"
        fi
        sleep 0.02
    done
    return 1
}

# fl_mark - the recovery happens now (fl_wait_converged measures from here).
fl_mark() {
    FL_T0="$EPOCHREALTIME"
}

# fl_elapsed - seconds since fl_mark, two decimals.
fl_elapsed() {
    awk -v a="$FL_T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

# fl_consumer_pending GROUP CONSUMER - how many entries CONSUMER of GROUP holds unacknowledged.
fl_consumer_pending() {
    local n
    n="$(redis_cli XPENDING dadns:changes "$1" - + 1000000 "$2" 2>/dev/null | wc -l)"
    echo $((n / 4))
}

# fl_consumer_ids GROUP CONSUMER - the ids CONSUMER of GROUP holds, one per line.
fl_consumer_ids() {
    redis_cli XPENDING dadns:changes "$1" - + 1000000 "$2" 2>/dev/null | awk 'NR % 4 == 1'
}

# fl_files_newer MARKER - true when a zone file was written after MARKER was touched.
fl_files_newer() {
    [ -n "$(find "$ZONES_DIR" -maxdepth 1 -name '*.db' -newer "$1" -print -quit 2>/dev/null)" ]
}

# fl_files_newer_count MARKER - how many zone files were written after MARKER was touched.
fl_files_newer_count() {
    find "$ZONES_DIR" -maxdepth 1 -name '*.db' -newer "$1" 2>/dev/null | wc -l
}

# fl_log_has NAME ERE - the log of service NAME (whole file) matches ERE (case-insensitive).
fl_log_has() {
    grep -Eqi -- "$2" "$STACK_DIR/logs/$1.log" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Pushing: an ops file has one line per request, "save ZONE SERIAL [WORKER]" or
# "delete ZONE - [WORKER]", sent in file order by FL_WORKERS curl processes (one keep-alive
# connection each). Without WORKER a zone always goes to the same worker, so its requests are
# answered in file order and FL_WANT ends at the last one accepted.

# fl_ops OP TAG FROM TO SERIAL [CONDITION] - ops lines for zones TAG-i.test, i = FROM..TO, where
# the awk CONDITION on i holds (default all).
fl_ops() {
    local op="$1" tag="$2" from="$3" to="$4" serial="$5" cond="${6:-1}"
    if [ "$op" = delete ]; then serial=-; fi
    [ "$from" -le "$to" ] || return 0
    seq "$from" "$to" |
        awk -v op="$op" -v t="$tag" -v s="$serial" "{ i = \$1 } $cond { print op, t \"-\" i \".test\", s }"
}

# fl_push_start OPSFILE [WORKERS] - send the requests of OPSFILE in the background.
fl_push_start() {
    local ops="$1" workers="${2:-$FL_WORKERS}" b w
    FL_BATCH=$((FL_BATCH + 1))
    b="$FL_DIR/p$FL_BATCH"
    mkdir -p "$b"
    FL_PUSH_OPS="$ops"
    # the zone texts of the saves: the sample push renamed (like make_zone), one awk for all
    awk -v dir="$FL_DIR/z" -v tpl="$E2E_DATA/sample-da-push.db" '
        BEGIN { while ((getline l < tpl) > 0) t = t l "\n"; close(tpl) }
        $1 == "save" { f = dir "/" $2 "." $3 ".db"; s = t; gsub(/example\.com/, $2, s)
                       sub(/2025031402/, $3, s); printf "%s", s > f; close(f) }' "$ops"
    # one curl configuration per worker
    awk -v b="$b" -v n="$workers" -v port="$INGEST_PORT" -v auth="$AUTH_USER:$AUTH_PASS" \
        -v host="$FL_HOST" -v user="$FL_USER" -v dir="$FL_DIR/z" '
        NF < 3 { next }
        { if (NF >= 4) w = $4 % n; else { if (!($2 in wk)) wk[$2] = k++ % n; w = wk[$2] }
          f = b "/cfg." w
          if (started[w]) print "next" > f
          started[w] = 1
          if ($1 == "save") {
              printf "url = \"http://127.0.0.1:%s/CMD_API_DNS_ADMIN?action=rawsave&domain=%s&hostname=%s&username=%s\"\n", port, $2, host, user > f
              printf "data-binary = \"@%s/%s.%s.db\"\n", dir, $2, $3 > f
          } else {
              printf "url = \"http://127.0.0.1:%s/CMD_API_DNS_ADMIN\"\n", port > f
              printf "data = \"action=delete&select0=%s&hostname=%s&username=%s\"\n", $2, host, user > f
          }
          printf "user = \"%s\"\nsilent\nmax-time = 30\n", auth > f
          printf "write-out = \"\\n@@ %%{http_code} %s %s %s\\n\"\n", $1, $2, $3 > f }' "$ops"
    for w in $(seq 0 $((workers - 1))); do
        [ -s "$b/cfg.$w" ] || continue
        curl -K "$b/cfg.$w" >"$b/res.$w" 2>/dev/null &
        FL_PUSH_PIDS+=("$!")
        FL_PUSH_RES+=("$b/res.$w")
    done
}

# fl_push_progress - requests of the running round answered so far.
fl_push_progress() {
    [ "${#FL_PUSH_RES[@]}" -gt 0 ] || {
        echo 0
        return
    }
    awk '/^@@ / { n++ } END { print n + 0 }' "${FL_PUSH_RES[@]}" 2>/dev/null || echo 0
}

# fl_push_wait - wait for the round, then account every answer: error=0 makes the request's
# state the zone's wanted one; anything else (no answer, 5xx, error=1) is remembered as a state
# the zone may or may not have reached (FL_ALT). Sets FL_ROUND_SENT / FL_ROUND_OK.
fl_push_wait() {
    local pid f code op zone serial verdict body st
    for pid in "${FL_PUSH_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    FL_ROUND_SENT=0
    FL_ROUND_OK=0
    for f in "${FL_PUSH_RES[@]}"; do
        while read -r code op zone serial verdict body; do
            st="$serial"
            if [ "$op" = delete ]; then st=-; fi
            FL_ROUND_SENT=$((FL_ROUND_SENT + 1))
            if [ "$verdict" = ok ]; then
                FL_ROUND_OK=$((FL_ROUND_OK + 1))
                FL_WANT[$zone]="$st"
                unset "FL_ALT[$zone]"
            else
                FL_ALT[$zone]="${FL_ALT[$zone]:-} $st"
                printf '%s %s %s: %s %s\n' "$op" "$zone" "$serial" "$code" "$body" \
                    >>"$FL_DIR/refused"
            fi
        done < <(awk '/^@@ / { print $2, $3, $4, $5, (body == "error=0" ? "ok" : "no"), body
                               body = ""; next }
                      NF { body = body $0 }' "$f")
    done
    if [ "$FL_ROUND_SENT" -lt "$(awk 'NF >= 3 { n++ } END { print n + 0 }' "$FL_PUSH_OPS")" ]; then
        log_note "only $FL_ROUND_SENT requests of $FL_PUSH_OPS were answered (curl failed?)"
    fi
    FL_SENT=$((FL_SENT + FL_ROUND_SENT))
    FL_ACCEPTED=$((FL_ACCEPTED + FL_ROUND_OK))
    FL_REFUSED=$((FL_SENT - FL_ACCEPTED))
    FL_PUSH_PIDS=()
    FL_PUSH_RES=()
}

# fl_push OPSFILE [WORKERS] - send and account a round; prints nothing.
fl_push() {
    fl_push_start "$@"
    fl_push_wait
}

# fl_refused_sample - the first refused requests (diagnostics).
fl_refused_sample() {
    head -n 5 "$FL_DIR/refused" 2>/dev/null | sed 's/^/#   refused: /' || true
}

# ---------------------------------------------------------------------------------------------
# Verification

# fl_zone_list - every zone pushed (accepted or not), minus FL_EXCLUDE, one per line, sorted.
fl_zone_list() {
    local z
    {
        for z in "${!FL_WANT[@]}" "${!FL_ALT[@]}"; do
            case " $FL_EXCLUDE " in *" $z "*) continue ;; esac
            echo "$z"
        done
    } | LC_ALL=C sort -u
}

# fl_dns_serials PORT LIST - "zone serial" for every zone of LIST (file) the DNS server on
# PORT serves with an SOA (one dig for all).
fl_dns_serials() {
    awk '{ print $1, "SOA" }' "$2" >"$FL_DIR/q"
    { dig +norec +noall +answer +time=1 +tries=2 -p "$1" @127.0.0.1 -f "$FL_DIR/q" 2>/dev/null ||
        true; } | awk '$4 == "SOA" { n = tolower($1); sub(/\.$/, "", n); print n, $7 }'
}

# fl_redis_states LIST - "zone serial version deleted" as stored in Redis ("- - -" when there
# is no hash) for every zone of LIST.
fl_redis_states() {
    awk '{ printf "HMGET dadns:zone:%s serial version deleted\n", $1 }' "$1" |
        redis_cli 2>/dev/null | awk 'NF == 0 { $0 = "-" } { print }' | paste -d ' ' - - - |
        paste -d ' ' "$1" -
}

# fl_verify KIND [BACKEND] [DB] - compare what is served with what was accepted. KIND bind
# (named, group/applied "bind" unless BACKEND) or pdns (pdns_server on PDNS_PORT, the writer's
# state table in DB, group BACKEND). For every pushed zone: the allowed states are its wanted
# one plus the unanswered later ones (FL_ALT); Redis must hold one of them, the DNS server must
# serve exactly what Redis holds (no SOA for a deleted zone), the backend's applied version
# (and state row) must be Redis's version. Sets FL_N, FL_OK, FL_LOST, FL_DIAG; 0 when all agree.
fl_verify() {
    local kind="$1" be="${2:-bind}" db="${3:-}" port z alt
    port="$DNS_PORT"
    if [ "$kind" = pdns ]; then port="$PDNS_PORT"; fi
    fl_zone_list >"$FL_DIR/list"
    while read -r z; do
        alt="${FL_ALT[$z]:-}"
        alt="${alt# }"
        printf '%s %s %s\n' "$z" "${FL_WANT[$z]:-~}" "${alt// /,}"
    done <"$FL_DIR/list" >"$FL_DIR/want"
    fl_dns_serials "$port" "$FL_DIR/list" >"$FL_DIR/served"
    fl_redis_states "$FL_DIR/list" >"$FL_DIR/stored"
    { redis_cli HGETALL "dadns:applied:$be" 2>/dev/null || true; } | paste -d ' ' - - >"$FL_DIR/applied"
    : >"$FL_DIR/state"
    if [ "$kind" = pdns ]; then
        { mysql_q "$db" "SELECT zone, version, deleted FROM dadns_state" 2>/dev/null || true; } |
            awk -F '\t' '{ z = $1; sub(/\.$/, "", z); print z, $2, $3 }' >"$FL_DIR/state"
    fi
    local out
    out="$(awk -v kind="$kind" -v sf="$FL_DIR/served" -v rf="$FL_DIR/stored" \
        -v af="$FL_DIR/applied" -v tf="$FL_DIR/state" '
        BEGIN {
            while ((getline l < sf) > 0) { split(l, a, " "); srv[a[1]] = a[2] }
            while ((getline l < rf) > 0) { split(l, a, " "); rs[a[1]] = a[2]; rv[a[1]] = a[3]; rd[a[1]] = a[4] }
            while ((getline l < af) > 0) { split(l, a, " "); ap[a[1]] = a[2] }
            while ((getline l < tf) > 0) { split(l, a, " "); tv[a[1]] = a[2]; td[a[1]] = a[3] }
        }
        function bad(msg) { nbad++; if (nbad <= 8) diag = diag $1 ": " msg "\n" }
        {
            z = $1; delete allowed
            if ($2 == "~") allowed["-"] = 1; else allowed[$2] = 1
            n = split($3, alt, ","); for (i = 1; i <= n; i++) if (alt[i] != "") allowed[alt[i]] = 1
            # what Redis holds: a serial, or "-" for a tombstone / no hash
            st = (rd[z] == "1" || rv[z] == "-" || rv[z] == "") ? "-" : rs[z]
            served = (z in srv) ? srv[z] : "-"
            want = "want " $2 ($3 != "" ? " (or " $3 ")" : "")
            if (!(st in allowed)) { bad("Redis holds " st ", " want); next }
            if (served != st) {
                bad(kind " serves " served ", Redis holds " st ", " want); next
            }
            if (rv[z] != "-" && rv[z] != "" && ap[z] != rv[z]) {
                bad("applied version " (z in ap ? ap[z] : "none") ", Redis version " rv[z]); next
            }
            if (kind == "pdns" && rv[z] != "-" && rv[z] != "") {
                if (st == "-" && z in tv && (tv[z] != rv[z] || td[z] != "1")) {
                    bad("state row " tv[z] "/" td[z] ", Redis version " rv[z] " deleted"); next
                }
                if (st != "-" && (tv[z] != rv[z] || td[z] != "0")) {
                    bad("state row " (z in tv ? tv[z] "/" td[z] : "none") ", Redis version " rv[z]); next
                }
            }
            ok++
        }
        END { printf "%d %d %d\n%s", NR, ok, nbad, diag }' "$FL_DIR/want")"
    read -r FL_N FL_OK FL_LOST <<<"$(head -n 1 <<<"$out")"
    FL_DIAG="$(tail -n +2 <<<"$out")"
    [ "$FL_LOST" -eq 0 ]
}

# fl_wait_converged TIMEOUT_S KIND [BACKEND] [DB] - fl_verify until it passes; FL_CONV_S is
# the time from fl_mark to the end of the passing verification (an upper bound, a few hundred
# ms of resolution), "timeout" when TIMEOUT_S passed; the mismatches are printed then.
fl_wait_converged() {
    local timeout="$1" deadline
    shift
    [ -n "$FL_T0" ] || fl_mark
    deadline=$(($(now_ns) + timeout * 1000000000))
    while true; do
        if fl_verify "$@"; then
            FL_CONV_S="$(fl_elapsed)"
            return 0
        fi
        if [ "$(now_ns)" -ge "$deadline" ]; then
            FL_CONV_S=timeout
            printf '#   %s: %d of %d zones not converged after %ss, e.g.\n' "$1" "$FL_LOST" \
                "$FL_N" "$timeout"
            printf '%s\n' "$FL_DIAG" | sed '/^$/d; s/^/#     /'
            return 1
        fi
        sleep 0.25
    done
}

# fl_report FAULT - one figures line from the last fl_verify / fl_wait_converged; the pushes
# column counts the requests since the previous report.
fl_report() {
    local line
    line="$1|$FL_N|$FL_OK|$FL_LOST|$FL_CONV_S|$((FL_ACCEPTED - FL_REP_ACC))/$((FL_SENT - FL_REP_SENT))"
    FL_REP_ACC="$FL_ACCEPTED"
    FL_REP_SENT="$FL_SENT"
    log_note "figures: $line"
    if [ -n "${FL_REPORT:-}" ]; then
        printf '%s\n' "$line" >>"$FL_REPORT"
    fi
}

# fl_report_skip - the next fl_report counts the pushes from here on.
fl_report_skip() {
    FL_REP_ACC="$FL_ACCEPTED"
    FL_REP_SENT="$FL_SENT"
}

# fl_timeout N - a convergence timeout for N zones (seconds).
fl_timeout() {
    echo $((40 + $1 / 20))
}

# fl_same_list WHAT A B - the two sorted lists are equal; else print how they differ.
fl_same_list() {
    [ "$2" = "$3" ] && return 0
    printf '#   %s differ: %s\n' "$1" "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") |
        grep '^[<>]' | head -n 6 | tr '\n' ' ')"
    return 1
}

# fl_bind_layout_clean - the include lists exactly the zones Redis has live, every one with a
# zone file, no zone file of a deleted zone is left, no temporary file either.
fl_bind_layout_clean() {
    local live listed files tmp
    live="$(redis_cli SMEMBERS dadns:zones 2>/dev/null | LC_ALL=C sort)"
    listed="$(sed -n 's/^zone "\([^"]*\)" .*/\1/p' "$INCLUDE_CONF" | LC_ALL=C sort)"
    files="$(find "$ZONES_DIR" -maxdepth 1 -name '*.db' -printf '%f\n' | sed 's/\.db$//' |
        LC_ALL=C sort)"
    tmp="$(find "$ZONES_DIR" "$(dirname "$INCLUDE_CONF")" -maxdepth 1 -name '.*tmp*' -print |
        head -n 3)"
    fl_same_list "include (<) and live set (>)" "$listed" "$live" &&
        fl_same_list "zone files (<) and live set (>)" "$files" "$live" && eq "$tmp" ""
}

# fl_serving_count PORT LISTFILE SERIAL - how many zones of LISTFILE the DNS server on PORT
# serves with SERIAL.
fl_serving_count() {
    fl_dns_serials "$1" "$2" | awk -v s="$3" '$2 == s { n++ } END { print n + 0 }'
}

# ---------------------------------------------------------------------------------------------
# Dead letters and dadnsctl

# fl_dead_len BACKEND - entries in the backend's dead-letter stream.
fl_dead_len() {
    redis_cli XLEN "dadns:dead:$1" 2>/dev/null || echo 0
}

# fl_dead_entries BACKEND - one line per dead letter: "<id>\tfield=value\t..." (values as
# stored; fields in stream order).
fl_dead_entries() {
    redis_cli EVAL "local r = redis.call('XRANGE', KEYS[1], '-', '+') local out = {}
        for _, e in ipairs(r) do local s = e[1]
            for i = 1, #e[2], 2 do s = s .. '\t' .. e[2][i] .. '=' .. e[2][i + 1] end
            out[#out + 1] = s end
        return out" 1 "dadns:dead:$1" 2>/dev/null
}

# fl_dead_id LINE - the dead-letter stream id of an fl_dead_entries line.
fl_dead_id() {
    printf '%s\n' "${1%%$'\t'*}"
}

# fl_dead_field LINE FIELD - one field of an fl_dead_entries line (field "id" is the original
# dadns:changes entry id, per the contract).
fl_dead_field() {
    printf '%s\n' "$1" | tr '\t' '\n' | sed -n "2,\$ s/^$2=//p" | head -n 1
}

# fl_dead_of BACKEND ZONE - the fl_dead_entries line of ZONE (the last one), or nothing.
fl_dead_of() {
    fl_dead_entries "$1" | awk -F '\t' -v z="zone=$2" '{ for (i = 2; i <= NF; i++) if ($i == z) l = $0 }
        END { if (l != "") print l }'
}

# fl_ctl ARGS... - run dadnsctl -c DADNS_CONF ARGS; sets FL_CTL_RC and FL_CTL_OUT (stdout and
# stderr). 127 when the tool is not built.
fl_ctl() {
    local filter
    FL_CTL_RC=0
    if [ ! -x "$DADNSCTL_BIN" ]; then
        FL_CTL_RC=127
        FL_CTL_OUT="missing $DADNSCTL_BIN"
        return 0
    fi
    mapfile -t filter < <(stack_env_filter)
    FL_CTL_OUT="$(env "${filter[@]}" "$DADNSCTL_BIN" -c "$DADNS_CONF" "$@" 2>&1)" || FL_CTL_RC=$?
    printf '%s\n' "$FL_CTL_OUT" | head -n 20 | sed "s/^/#   dadnsctl $1 $2: /"
}

# fl_replay_by_hand BACKEND DEAD_ID - what the contract says a replay does (one script: XADD op
# push with backend, XDEL the dead letter), for when dadnsctl is not built yet, so the rest of
# the scenario can still be checked.
fl_replay_by_hand() {
    redis_cli EVAL "local e = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2])
        if #e == 0 then return 0 end
        local f = {} for i = 1, #e[1][2], 2 do f[e[1][2][i]] = e[1][2][i + 1] end
        redis.call('XADD', KEYS[1], '*', 'op', 'push', 'zone', f['zone'], 'version',
            f['version'] or '0', 'backend', ARGV[1])
        return redis.call('XDEL', KEYS[2], ARGV[2])" 2 dadns:changes "dadns:dead:$1" "$1" "$2" \
        >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Scenarios

# fl_scenario_writer_kill [N] - kill -9 of writer-bind in the middle of a big batch, twice:
# while it writes zone files, and while it reloads zones in named; restart; convergence.
fl_scenario_writer_kill() {
    local n="${1:-300}" m marker held total newer t
    local to
    to="$(fl_timeout "$n")"
    m=$((n / 10))
    fl_begin
    fl_writer_options retry_interval_s 1 retry_base_s 1 retry_cap_s 2 claim_idle_s 2
    stack_start_writer

    fl_ops save wk 1 "$n" 1 >"$FL_DIR/ops1"
    fl_push "$FL_DIR/ops1"
    check "$n zones pushed: all error=0" eq "$FL_ROUND_OK/$FL_ROUND_SENT" "$n/$n"
    check "$n zones served" fl_wait_converged "$to" bind

    # --- baseline: the same kind of backlog without a fault ---------------------------------
    fl_report_skip
    stack_stop writer
    fl_ops save wk 1 "$n" 100 >"$FL_DIR/ops0"
    fl_push "$FL_DIR/ops0"
    check "baseline updates pushed while the writer is stopped: all error=0" \
        eq "$FL_ROUND_OK/$FL_ROUND_SENT" "$n/$n"
    fl_mark
    stack_start_writer
    check "baseline: the backlog is applied" fl_wait_converged "$to" bind
    fl_report "no fault: writer-bind started on a backlog of updates (baseline)"

    # --- a big batch: updates, deletes, new zones, zones updated twice ----------------------
    stack_stop writer
    {
        fl_ops save wk 1 "$n" 2 'i % 20 != 0'
        fl_ops delete wk 1 "$n" - 'i % 20 == 0'
        fl_ops save wk 1 "$n" 3 'i % 7 == 0 && i % 20 != 0'
        fl_ops save wk-new 1 "$m" 1
    } >"$FL_DIR/ops2"
    fl_push "$FL_DIR/ops2"
    total="$FL_ROUND_SENT"
    check "batch pushed while the writer is stopped: all error=0" eq "$FL_ROUND_OK/$FL_ROUND_SENT" \
        "$total/$total"
    marker="$FL_DIR/marker2"
    touch "$marker"
    sleep 0.02
    stack_start_writer
    check "writer started writing the batch" wait_until 60 fl_files_newer "$marker"
    stack_kill writer
    newer="$(fl_files_newer_count "$marker")"
    held="$(group_pending bind)"
    log_note "writer-bind killed (SIGKILL) after rewriting $newer zone files; $held entries pending"
    check "killed mid-batch: entries delivered and not acknowledged" eval '[ "${held:-0}" -gt 0 ]'
    fl_verify bind || true
    check "killed mid-batch: $FL_LOST of $FL_N zones not converged yet" eval '[ "$FL_LOST" -gt 0 ]'
    fl_mark
    stack_start_writer
    check "after the restart every zone is at its latest version" fl_wait_converged "$to" bind
    fl_report "writer-bind kill -9 while writing zone files"
    check "group drained after the restart" wait_until 30 group_drained bind
    check "include, zone files and live set agree; no temporary file left" fl_bind_layout_clean

    # --- kill -9 while named reloads the zones ----------------------------------------------
    stack_stop writer
    fl_ops save wk 1 "$n" 4 'i % 20 != 0' >"$FL_DIR/ops3"
    fl_push "$FL_DIR/ops3"
    check "updates pushed while the writer is stopped: all error=0" \
        eq "$FL_ROUND_OK/$FL_ROUND_SENT" "$FL_ROUND_SENT/$FL_ROUND_SENT"
    fl_ops save wk 1 "$n" 4 'i % 20 != 0 && i <= 60' | awk '{ print $2 }' >"$FL_DIR/first"
    stack_start_writer
    check "named started serving the new serials" \
        wait_until 60 eval '[ "$(fl_serving_count "$DNS_PORT" "$FL_DIR/first" 4)" -gt 0 ]'
    stack_kill writer
    held="$(group_pending bind)"
    fl_zone_list >"$FL_DIR/all"
    log_note "writer-bind killed (SIGKILL) during the reloads: $held entries pending; named" \
        "serves the new serial for $(fl_serving_count "$DNS_PORT" "$FL_DIR/all" 4) of" \
        "$FL_ROUND_SENT zones"
    check "killed mid-reload: entries delivered and not acknowledged" eval '[ "${held:-0}" -gt 0 ]'
    fl_mark
    stack_start_writer
    check "after the second restart every zone is at its latest version" \
        fl_wait_converged "$to" bind
    fl_report "writer-bind kill -9 while reloading zones"
    check "group drained after the second restart" wait_until 30 group_drained bind
    check "layout clean after the second restart" fl_bind_layout_clean
    t="$(redis_cli SCARD dadns:zones)"
    check "live zone count: $n - $((n / 20)) deleted + $m new" eq "$t" "$((n - n / 20 + m))"
}

# fl_scenario_replica_claim [N] - two writer-mysql replicas (consumers r1, r2) of one backend
# (powerdns_mysql, PowerDNS serving it): r1 is killed (-9) holding pending entries, r2 claims
# them after writer.claim_idle_s; then r1 (restarted) is frozen (SIGSTOP) holding entries, r2
# claims them again, r1 is thawed; every zone converges and nothing older is served.
fl_scenario_replica_claim() {
    local n="${1:-200}" to held i k t z t_held left
    to="$(fl_timeout "$n")"
    fl_require_mysql_bins
    fl_require_bins
    e2e_enter
    log_note "stack in $STACK_DIR"
    stack_start_redis
    stack_start_ingest
    stack_start_mariadb rc_pd
    stack_start_pdns rc_pd
    fl_init
    fl_writer_options claim_idle_s 2 retry_interval_s 1 retry_base_s 1 retry_cap_s 2 \
        batch_size 50
    stack_add_mysql_backend pd powerdns_mysql rc_pd connect_timeout_s=2

    # --- r1 alone takes a batch, and dies with it -------------------------------------------
    fl_ops save rc 1 "$n" 1 >"$FL_DIR/ops1"
    fl_push "$FL_DIR/ops1"
    check "$n zones pushed before any writer runs: all error=0" eq "$FL_ROUND_OK" "$n"
    stack_spawn_writer_mysql writer-mysql-r1 pd DADNS_WRITER_CONSUMER_NAME=r1
    check "r1 caught (frozen) while holding pending entries" \
        fl_freeze_holding 30 writer-mysql-r1 pd r1
    stack_kill writer-mysql-r1
    held="$(fl_consumer_pending pd r1)"
    fl_consumer_ids pd r1 >"$FL_DIR/r1.ids"
    log_note "r1 killed (SIGKILL) holding $held entries"
    check "r1 killed holding entries" eval '[ "$held" -gt 0 ]'
    fl_mark
    fl_start_writer_mysql writer-mysql-r2 pd DADNS_WRITER_CONSUMER_NAME=r2
    if wait_until 30 eval '[ "$(fl_consumer_pending pd r1)" -eq 0 ]'; then
        log_note "r1's entries left its pending list $(fl_elapsed)s after r2 started"
        check "r2 claimed every entry of the dead r1 (XPENDING r1 = 0)" true
    else
        check "r2 claimed every entry of the dead r1 (XPENDING r1 = 0)" false
    fi
    left=""
    while read -r i; do
        [ -n "$i" ] || continue
        z="$(redis_cli XPENDING dadns:changes pd "$i" "$i" 1 2>/dev/null | sed -n 2p)"
        [ -z "$z" ] || [ "$z" = r2 ] || left="$left $i:$z"
    done <"$FL_DIR/r1.ids"
    check "r1's former entries are acknowledged or held by r2" eq "$left" ""
    check "every zone served by PowerDNS at its latest version" fl_wait_converged "$to" pdns pd rc_pd
    fl_report "writer-mysql replica kill -9 (claimed by the other)"
    check "group drained" wait_until 30 group_drained pd

    # --- r1 back, then frozen holding entries -----------------------------------------------
    fl_start_writer_mysql writer-mysql-r1 pd DADNS_WRITER_CONSUMER_NAME=r1
    # Freeze r1 while its XREADGROUP is blocked server-side, then push single zones until one is
    # delivered to it (blocked readers are served in turn); if r1 was frozen elsewhere in its
    # loop, thaw it and try again.
    i=0
    for t in 1 2 3 4 5 6; do
        sleep 0.7
        kill -STOP "$(stack_pid writer-mysql-r1)"
        for k in 1 2 3 4 5; do
            i=$((i + 1))
            fl_ops save rc "$i" "$i" 2 >"$FL_DIR/one"
            fl_push "$FL_DIR/one" 1
            [ "$(fl_consumer_pending pd r1)" -eq 0 ] || break 2
            sleep 0.1
        done
        kill -CONT "$(stack_pid writer-mysql-r1)"
    done
    log_note "r1 frozen (SIGSTOP)"
    t_held="$EPOCHREALTIME"
    held="$(fl_consumer_pending pd r1)"
    log_note "frozen r1 holds $held entries after $i single pushes ($t freezes)"
    check "frozen r1 holds entries" eval '[ "$held" -gt 0 ]'
    fl_consumer_ids pd r1 >"$FL_DIR/r1b.ids"
    # the zones of the single pushes (one of them held by r1) are not pushed again: they reach
    # PowerDNS only if r1's entry is claimed
    fl_ops save rc $((i + 1)) "$n" 2 >"$FL_DIR/ops2"
    fl_ops save rc $((i + 1)) $((i + n / 10)) 3 >>"$FL_DIR/ops2"
    fl_push "$FL_DIR/ops2"
    check "updates pushed while r1 is frozen: all error=0" eq "$FL_ROUND_OK" "$FL_ROUND_SENT"
    if awk -v a="$t_held" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 1.5) }'; then
        check "not claimed before claim_idle_s (r1 still holds its entries)" \
            eval '[ "$(fl_consumer_pending pd r1)" -gt 0 ]'
    fi
    fl_mark
    check "r2 claimed the frozen r1's entries (XPENDING r1 = 0)" \
        wait_until 30 eval '[ "$(fl_consumer_pending pd r1)" -eq 0 ]'
    check "every zone at its latest version while r1 is frozen" \
        fl_wait_converged "$to" pdns pd rc_pd
    fl_report "writer-mysql replica SIGSTOP (claimed by the other)"
    kill -CONT "$(stack_pid writer-mysql-r1)"
    log_note "r1 thawed (SIGCONT)"
    sleep 3
    check "after r1 thawed: still exactly the latest version everywhere (nothing older)" \
        fl_verify pdns pd rc_pd
    [ "$FL_LOST" -eq 0 ] || printf '%s\n' "$FL_DIAG" | sed '/^$/d; s/^/#     /'
    check "both replicas still running" \
        eval 'stack_alive writer-mysql-r1 && stack_alive writer-mysql-r2'
    check "group drained" wait_until 30 group_drained pd
    check "PowerDNS answered without backend errors" pdns_log_clean
}

# fl_redis_outage MODE - stop Redis (MODE term: SIGTERM, kill: SIGKILL) .
fl_redis_outage() {
    if [ "$1" = kill ]; then
        stack_kill redis
    else
        stack_stop redis
    fi
}

# fl_scenario_redis_restart [N] - Redis (AOF, appendfsync always) stopped with SIGTERM and with
# SIGKILL, once while DirectAdmin pushes arrive and once while the writer applies a batch, then
# restarted on the same directory. With the ingest spool on, every push must be answered
# error=0; every push answered error=0 must be served at the end.
fl_scenario_redis_restart() {
    local n="${1:-300}" to mode r half s marker
    to="$(fl_timeout "$n")"
    fl_require_bins
    e2e_enter
    log_note "stack in $STACK_DIR: redis $REDIS_PORT, dns $DNS_PORT, ingest $INGEST_PORT"
    stack_start_redis
    stack_start_named
    stack_start_ingest DADNS_APP_SPOOL_DIR="$STACK_DIR/spool"
    fl_init
    fl_writer_options retry_interval_s 1 retry_base_s 1 retry_cap_s 2
    stack_start_writer
    half=$((n / 2))

    # --- during pushes: down while a round is sent; pushes while down; pushes right after ----
    r=0
    for mode in term kill; do
        r=$((r + 1))
        s=$((r * 10))
        {
            fl_ops save rr 1 "$half" "$s"
        } >"$FL_DIR/a$r"
        {
            fl_ops save rr $((half + 1)) "$n" "$s"
            fl_ops save rr 1 $((n / 10)) $((s + 1))
            if [ "$r" -eq 2 ]; then fl_ops delete rr 1 "$n" - 'i % 25 == 0'; fi
        } >"$FL_DIR/b$r"
        {
            fl_ops save rr 1 $((n / 20)) $((s + 2))
            fl_ops save rr $((half + 1)) $((half + n / 20)) $((s + 2))
        } >"$FL_DIR/c$r"
        fl_push_start "$FL_DIR/a$r" 2
        wait_until 30 eval '[ "$(fl_push_progress)" -ge $((half / 3)) ]' || true
        fl_redis_outage "$mode"
        log_note "redis stopped ($mode) after $(fl_push_progress) of $half pushes of round $r"
        fl_push_wait
        fl_push "$FL_DIR/b$r"
        log_note "round $r while Redis is down: $FL_ROUND_OK of $FL_ROUND_SENT answered error=0"
        check "writer and ingest keep running while Redis is down" \
            eval 'stack_alive writer && stack_alive ingest'
        sleep 1
        stack_start_redis
        fl_mark
        fl_push "$FL_DIR/c$r"
        check "round $r ($mode during pushes): every push answered error=0 (spool)" \
            eq "$FL_REFUSED" 0
        [ "$FL_REFUSED" -eq 0 ] || fl_refused_sample
        check "round $r ($mode during pushes): every accepted push served, the latest wins" \
            fl_wait_converged "$to" bind
        fl_report "Redis $mode during pushes (spool on)"
    done

    # --- during writes: the writer is applying a batch when Redis goes ----------------------
    for mode in term kill; do
        r=$((r + 1))
        s=$((r * 10))
        stack_stop writer
        {
            fl_ops save rr 1 "$n" "$s" 'i % 25 != 0'
            if [ "$r" -eq 4 ]; then fl_ops delete rr 1 "$n" - 'i % 11 == 0'; fi
        } >"$FL_DIR/w$r"
        fl_push "$FL_DIR/w$r"
        check "round $r pushed: all error=0" eq "$FL_ROUND_OK" "$FL_ROUND_SENT"
        marker="$FL_DIR/marker$r"
        touch "$marker"
        sleep 0.02
        stack_start_writer
        check "round $r: writer started applying" wait_until 60 fl_files_newer "$marker"
        fl_redis_outage "$mode"
        log_note "redis stopped ($mode) after the writer rewrote" \
            "$(fl_files_newer_count "$marker") zone files"
        sleep 2
        check "writer keeps running while Redis is down" stack_alive writer
        stack_start_redis
        fl_mark
        check "round $r ($mode during writes): every accepted push served, the latest wins" \
            fl_wait_converged "$to" bind
        fl_report "Redis $mode during writes"
    done
    check "group drained" wait_until 30 group_drained bind
    check "layout clean" fl_bind_layout_clean
    check "no push lost: every push of the test answered error=0 ($FL_ACCEPTED/$FL_SENT)" \
        eq "$FL_REFUSED" 0
}

# fl_scenario_backend_down [N] - writer-bind and writer-mysql (powerdns_mysql) on one stack;
# named stopped for a while during pushes, then restarted; then MariaDB stopped for a while
# during pushes, then restarted. The other backend keeps converging meanwhile; the breaker of
# writer-mysql opens, and no attempt is used up while it is open (no dead letters although the
# outage outlasts max_attempts retries).
fl_scenario_backend_down() {
    local n="${1:-200}" to m down_s=10
    to="$(fl_timeout "$n")"
    m=$((n / 10))
    fl_require_mysql_bins
    fl_begin
    stack_start_mariadb bd_pd
    stack_start_pdns bd_pd
    fl_writer_options retry_interval_s 1 retry_base_s 1 retry_cap_s 2 breaker_failures 3 \
        breaker_probe_s 1 max_attempts 6 batch_size 100
    stack_add_mysql_backend pd powerdns_mysql bd_pd connect_timeout_s=2
    # writer-bind gets many attempts: should its breaker not open while named is down (checked
    # below), the outage must not turn into dead letters that would hide the other checks.
    stack_start_writer DADNS_WRITER_MAX_ATTEMPTS=1000
    fl_start_writer_mysql writer-mysql-pd pd

    fl_ops save bd 1 "$n" 1 >"$FL_DIR/ops1"
    fl_push "$FL_DIR/ops1"
    check "$n zones pushed: all error=0" eq "$FL_ROUND_OK" "$n"
    check "$n zones served by named" fl_wait_converged "$to" bind
    check "$n zones served by PowerDNS" fl_wait_converged "$to" pdns pd bd_pd

    # --- named down ---------------------------------------------------------------------------
    stack_stop named
    log_note "named stopped (SIGTERM)"
    {
        fl_ops save bd 1 "$n" 2 'i % 10 != 0'
        fl_ops delete bd 1 "$n" - 'i % 10 == 0'
        fl_ops save bd-new 1 "$m" 1
    } >"$FL_DIR/ops2"
    fl_push "$FL_DIR/ops2"
    check "pushes while named is down: all error=0" eq "$FL_ROUND_OK" "$FL_ROUND_SENT"
    fl_mark
    check "PowerDNS converges while named is down (one backend does not hold back another)" \
        fl_wait_converged "$to" pdns pd bd_pd
    check "bind group still holds entries while named is down" \
        eval '! group_drained bind'
    sleep "$down_s"
    # The issue asks for a breaker when named is stopped; the contract opens it on whole-batch
    # failures (apply < 0), so writer-bind must report "named unreachable" as one.
    check "writer-bind opened its circuit breaker while named is down (log)" \
        fl_log_has writer 'breaker.*open|open.*breaker|circuit.*open'
    stack_start_named
    fl_mark
    check "after named is back every zone is at its latest version in named" \
        fl_wait_converged "$to" bind
    fl_report "named stopped ${down_s}s during pushes"
    check "bind group drained" wait_until 30 group_drained bind
    check "writer-bind closed its circuit breaker (log)" \
        fl_log_has writer 'breaker.*(clos|half)|(clos|half).*breaker|circuit.*clos'
    check "bind layout clean" fl_bind_layout_clean
    check "no dead letter for bind" eq "$(fl_dead_len bind)" 0

    # --- MariaDB down -------------------------------------------------------------------------
    stack_stop mariadb 60
    log_note "mariadbd stopped (SIGTERM)"
    {
        fl_ops save bd 1 "$n" 3 'i % 10 != 0 && i % 3 == 0'
        fl_ops save bd-new 1 "$m" 2
        fl_ops delete bd-new 1 "$m" - 'i % 5 == 0'
    } >"$FL_DIR/ops3"
    fl_push "$FL_DIR/ops3"
    check "pushes while MariaDB is down: all error=0" eq "$FL_ROUND_OK" "$FL_ROUND_SENT"
    fl_mark
    check "named converges while MariaDB is down" fl_wait_converged "$to" bind
    check "pd group holds entries while MariaDB is down" eval '! group_drained pd'
    sleep "$down_s"
    check "writer-mysql opened its circuit breaker (log)" \
        fl_log_has writer-mysql-pd 'breaker.*open|open.*breaker|circuit.*open'
    check "writer-mysql still running" stack_alive writer-mysql-pd
    stack_start_mariadb
    fl_mark
    check "after MariaDB is back every zone is at its latest version in PowerDNS" \
        fl_wait_converged "$to" pdns pd bd_pd
    fl_report "MariaDB stopped ${down_s}s during pushes"
    check "pd group drained" wait_until 30 group_drained pd
    check "writer-mysql closed its circuit breaker (log)" \
        fl_log_has writer-mysql-pd 'breaker.*(clos|half)|(clos|half).*breaker|circuit.*clos'
    check "no dead letter for pd: no attempt used up while the breaker was open" \
        eq "$(fl_dead_len pd)" 0
    check "named still exact" fl_verify bind
}

# fl_scenario_same_zone [ZONES] - each of ZONES zones pushed 50 times with increasing serials by
# 5 concurrent clients (client c sends serials c+1, c+6, ..., c+46); then one final push with the
# highest serial (51). What Redis stored last is what named serves, and at the end it is 51.
fl_scenario_same_zone() {
    local zn="${1:-4}" c k z i bad s stored
    fl_begin
    fl_writer_options retry_interval_s 1 retry_base_s 1 retry_cap_s 2
    stack_start_writer
    : >"$FL_DIR/ops1"
    for k in $(seq 0 9); do
        for c in $(seq 0 4); do
            for i in $(seq 1 "$zn"); do
                printf 'save sz-%d.test %d %d\n' "$i" $((c + 1 + 5 * k)) "$c" >>"$FL_DIR/ops1"
            done
        done
    done
    fl_push "$FL_DIR/ops1" 5
    check "$((zn * 50)) concurrent pushes (5 clients): all error=0" eq "$FL_ROUND_OK" "$((zn * 50))"
    check "writer drained" wait_until 60 group_drained bind
    bad=""
    for i in $(seq 1 "$zn"); do
        z="sz-$i.test"
        stored="$(redis_zone_field "$z" serial)"
        wait_until 20 zone_serves "$z" "$stored" ||
            bad="$bad $z:served=$(dig_serial "$z"),stored=$stored"
        [ "$(redis_cli HGET dadns:applied:bind "$z")" = "$(redis_zone_field "$z" version)" ] ||
            bad="$bad $z:applied"
    done
    check "after the concurrent pushes named serves exactly what Redis stored last" eq "$bad" ""
    : >"$FL_DIR/ops2"
    for i in $(seq 1 "$zn"); do
        printf 'save sz-%d.test 51\n' "$i" >>"$FL_DIR/ops2"
    done
    fl_mark
    fl_push "$FL_DIR/ops2"
    check "final pushes with the highest serial: error=0" eq "$FL_ROUND_OK" "$zn"
    check "every zone serves the highest serial (51), as stored in Redis" \
        fl_wait_converged 30 bind
    fl_report "same zone x50, 5 concurrent clients"
    bad=""
    for k in $(seq 1 10); do
        for i in $(seq 1 "$zn"); do
            s="$(dig_serial "sz-$i.test")"
            [ "$s" = 51 ] || bad="$bad sz-$i.test:$s"
        done
        sleep 0.2
    done
    check "nothing older served afterwards (sampled for 2 s)" eq "$bad" ""
    check "Redis holds serial 51 for every zone" \
        eq "$(for i in $(seq 1 "$zn"); do redis_zone_field "sz-$i.test" serial; done | sort -u)" 51
}

# fl_check_dead BACKEND ZONE ATTEMPTS PERMANENT CONSUMER SINCE - the dead letter of ZONE has
# the contract's fields with these values.
fl_check_dead() {
    local be="$1" z="$2" att="$3" perm="$4" cons="$5" since="$6" line orig v now at
    line="$(fl_dead_of "$be" "$z")"
    check "$be: $z is in dadns:dead:$be" test -n "$line"
    [ -n "$line" ] || return 0
    log_note "dead letter: $(printf '%s' "$line" | tr '\t' ' ')"
    orig="$(fl_dead_field "$line" id)"
    v="$(redis_zone_field "$z" version)"
    # shellcheck disable=SC2034 # now and at are read by the eval of a check below
    now="$(date +%s)"
    check "$be dead $z: op save" eq "$(fl_dead_field "$line" op)" save
    check "$be dead $z: version = the stored version" eq "$(fl_dead_field "$line" version)" "$v"
    check "$be dead $z: a reason" test -n "$(fl_dead_field "$line" reason)"
    check "$be dead $z: attempts $att" eq "$(fl_dead_field "$line" attempts)" "$att"
    check "$be dead $z: permanent $perm" eq "$(fl_dead_field "$line" permanent)" "$perm"
    check "$be dead $z: consumer $cons" eq "$(fl_dead_field "$line" consumer)" "$cons"
    # shellcheck disable=SC2034
    at="$(fl_dead_field "$line" failed_at)"
    check "$be dead $z: failed_at within the test" \
        eval '[ "${at:-0}" -ge "$since" ] && [ "${at:-0}" -le "$now" ]'
    check "$be dead $z: id is the original entry of the zone" \
        eq "$(redis_cli XRANGE dadns:changes "${orig:-0-0}" "${orig:-0-0}" 2>/dev/null |
            sed -n '2,$p' | paste -d ' ' - - | awk '$1 == "zone" { print $2 }')" "$z"
}

# fl_scenario_dead_letter [N] - writer-bind: zones whose file cannot be written (a directory of
# that name in zones_dir: a retryable error) land in dadns:dead:bind after writer.max_attempts
# deliveries, without holding back the other zones; writer-mysql (powerdns_mysql): a zone that
# exists in PowerDNS and is not managed by dadns (a permanent error) lands in dadns:dead:pd at
# the first failure. dadnsctl lists them, replays one, replays all, discards one; once fixed,
# every zone converges and the dead-letter streams are empty.
fl_scenario_dead_letter() {
    local n="${1:-100}" to cons since line id b
    to="$(fl_timeout "$n")"
    fl_require_mysql_bins
    fl_begin
    stack_start_mariadb dl_pd
    stack_start_pdns dl_pd
    fl_writer_options max_attempts 3 retry_base_s 1 retry_cap_s 2 retry_interval_s 1 \
        claim_idle_s 2
    stack_add_mysql_backend pd powerdns_mysql dl_pd connect_timeout_s=2
    cons="$(writer_mysql_consumer)"
    for b in 1 2 3; do
        mkdir "$ZONES_DIR/dl-bad-$b.test.db"
    done
    mysql_q dl_pd "INSERT INTO domains (name, type) VALUES ('dl-foreign.test', 'NATIVE')"
    stack_start_writer
    fl_start_writer_mysql writer-mysql-pd pd

    since="$(date +%s)"
    {
        fl_ops save dl 1 "$n" 1
        fl_ops save dl-bad 1 3 1
        printf 'save dl-foreign.test 1\n'
    } >"$FL_DIR/ops1"
    fl_push "$FL_DIR/ops1"
    check "$((n + 4)) zones pushed: all error=0" eq "$FL_ROUND_OK" "$((n + 4))"
    FL_EXCLUDE="dl-bad-1.test dl-bad-2.test dl-bad-3.test"
    check "the other zones converge in named despite the failing ones" \
        fl_wait_converged "$to" bind
    FL_EXCLUDE="dl-foreign.test"
    check "the other zones converge in PowerDNS despite the foreign one" \
        fl_wait_converged "$to" pdns pd dl_pd
    FL_EXCLUDE=""
    check "3 dead letters for bind after max_attempts (3) deliveries" \
        wait_until 40 eval '[ "$(fl_dead_len bind)" -eq 3 ]'
    check "1 dead letter for pd" wait_until 40 eval '[ "$(fl_dead_len pd)" -eq 1 ]'
    check "bind group drained (dead letters acknowledged)" wait_until 20 group_drained bind
    check "pd group drained (dead letters acknowledged)" wait_until 20 group_drained pd
    sleep 2
    check "bind: still exactly 3 dead letters (no duplicates)" eq "$(fl_dead_len bind)" 3
    fl_check_dead bind dl-bad-1.test 3 0 "$cons" "$since"
    fl_check_dead pd dl-foreign.test 1 1 "$cons" "$since"
    check "the failing zones are not served by named" \
        eval '! zone_serves dl-bad-1.test 1 && ! zone_serves dl-bad-2.test 1'

    # --- dadnsctl dead list --------------------------------------------------------------------
    fl_ctl dead list
    check "dadnsctl dead list: exit 0" eq "$FL_CTL_RC" 0
    line="$(fl_dead_of bind dl-bad-1.test)"
    id="$(fl_dead_id "$line")"
    check "dadnsctl dead list shows the bind dead letter (zone and id)" \
        eval 'has "$FL_CTL_OUT" dl-bad-1.test && has "$FL_CTL_OUT" "${id:-no-id}"'
    check "dadnsctl dead list shows the pd dead letter" has "$FL_CTL_OUT" dl-foreign.test

    # --- fix one, replay it --------------------------------------------------------------------
    rmdir "$ZONES_DIR/dl-bad-1.test.db"
    fl_ctl dead replay bind "$id"
    check "dadnsctl dead replay bind <id>: exit 0" eq "$FL_CTL_RC" 0
    [ "$FL_CTL_RC" -eq 0 ] || fl_replay_by_hand bind "$id"
    check "replayed zone served once fixed" wait_until 30 zone_serves dl-bad-1.test 1
    check "2 bind dead letters left" eq "$(fl_dead_len bind)" 2

    # --- fix one more, replay all: the unfixed one dies again -----------------------------------
    rmdir "$ZONES_DIR/dl-bad-2.test.db"
    fl_ctl dead replay bind --all
    check "dadnsctl dead replay bind --all: exit 0" eq "$FL_CTL_RC" 0
    if [ "$FL_CTL_RC" -ne 0 ]; then
        while read -r line; do
            fl_replay_by_hand bind "$(fl_dead_id "$line")"
        done < <(fl_dead_entries bind)
    fi
    check "replay --all: the fixed zone is served" wait_until 30 zone_serves dl-bad-2.test 1
    check "replay --all: the unfixed zone is a dead letter again" \
        wait_until 40 eval '[ "$(fl_dead_len bind)" -eq 1 ] && [ -n "$(fl_dead_of bind dl-bad-3.test)" ]'

    # --- discard it; the next push from DirectAdmin brings the zone once fixed ------------------
    line="$(fl_dead_of bind dl-bad-3.test)"
    fl_ctl dead discard bind "$(fl_dead_id "$line")"
    check "dadnsctl dead discard bind <id>: exit 0" eq "$FL_CTL_RC" 0
    [ "$FL_CTL_RC" -eq 0 ] ||
        redis_cli XDEL dadns:dead:bind "$(fl_dead_id "$line")" >/dev/null
    check "bind dead-letter stream empty" eq "$(fl_dead_len bind)" 0
    rmdir "$ZONES_DIR/dl-bad-3.test.db"
    printf 'save dl-bad-3.test 2\n' >"$FL_DIR/ops2"
    fl_push "$FL_DIR/ops2"
    check "discarded zone re-pushed: error=0" eq "$FL_ROUND_OK" 1

    # --- the permanent one: remove the foreign zone, replay every pd dead letter ---------------
    mysql_q dl_pd "DELETE FROM domains WHERE name = 'dl-foreign.test'"
    fl_mark
    fl_ctl dead replay pd --all
    check "dadnsctl dead replay pd --all: exit 0" eq "$FL_CTL_RC" 0
    if [ "$FL_CTL_RC" -ne 0 ]; then
        line="$(fl_dead_of pd dl-foreign.test)"
        [ -z "$line" ] || fl_replay_by_hand pd "$(fl_dead_id "$line")"
    fi
    check "every zone at its latest version in named" fl_wait_converged "$to" bind
    check "every zone at its latest version in PowerDNS" fl_wait_converged "$to" pdns pd dl_pd
    fl_report "always-failing zones: dead letter, fix, replay"
    check "dead-letter streams empty" eq "$(fl_dead_len bind) $(fl_dead_len pd)" "0 0"
    check "groups drained" wait_until 30 eval 'group_drained bind && group_drained pd'
    check "bind layout clean" fl_bind_layout_clean
}
