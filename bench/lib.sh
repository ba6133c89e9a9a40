# bench/lib.sh -- helpers shared by bench/run.sh and bench/run-mysql.sh (sourced after
# tests/e2e/lib.sh, whose stack_pid they use).

# ns_of EPOCHREALTIME-style value -> integer nanoseconds
ns_of() {
    local s="$1" sec frac
    sec="${s%.*}"
    frac="${s#*.}"
    [ "$frac" = "$s" ] && frac=0
    frac="${frac}000000000"
    echo $((sec * 1000000000 + 10#${frac:0:9}))
}

# vmhwm_mib SERVICE -> peak resident set of that stack service in MiB
vmhwm_mib() {
    local pid
    pid="$(stack_pid "$1")"
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo "n/a"
}

kv() { # kv KEY LINE -> value of KEY=value in LINE
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}
