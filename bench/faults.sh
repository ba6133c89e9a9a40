#!/usr/bin/env bash
# faults.sh -- `make bench-faults`: the fault-injection scenarios of issue 4 at a larger size.
#
# Runs each scenario of tests/e2e/faults_lib.sh -- the very code of the e2e tests
# tests/e2e/test_fault_*.sh, each on its own throwaway stack -- with more zones, collects the
# figures line every recovery reports, and prints one table: fault, zones pushed, zones
# converged, zones lost, seconds from the recovery to convergence, pushes answered error=0 /
# sent, and whether every check of the scenario passed. Raw output and the services' logs under
# bench/out/faults-<time>/.
#
# Arguments: scenario names (writer_kill replica_claim redis_restart backend_down same_zone
# dead_letter; default all). Environment: BENCH_FAULT_ZONES (zones per scenario, 2000),
# BENCH_FAULT_SAME_ZONES (zones of same_zone, each pushed 50 times, 20), DADNS_BIN_DIR (build
# directory, default <repo>/build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DADNS_SRC_DIR="$ROOT"
: "${DADNS_BIN_DIR:=$ROOT/build}"
export DADNS_BIN_DIR
ZONES="${BENCH_FAULT_ZONES:-2000}"
SAME="${BENCH_FAULT_SAME_ZONES:-20}"
ALL=(writer_kill replica_claim redis_restart backend_down same_zone dead_letter)
SCENARIOS=("$@")
[ "${#SCENARIOS[@]}" -gt 0 ] || SCENARIOS=("${ALL[@]}")

for s in "${SCENARIOS[@]}"; do
    [ -f "$ROOT/tests/e2e/test_fault_$s.sh" ] || {
        echo "unknown scenario '$s' (one of: ${ALL[*]})" >&2
        exit 1
    }
done
for n in "$ZONES" "$SAME"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
        echo "bad zone count '$n'" >&2
        exit 1
    }
done

OUT="$ROOT/bench/out/faults-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
REPORT="$OUT/figures"
: >"$REPORT"
declare -A RESULT=()

for s in "${SCENARIOS[@]}"; do
    n="$ZONES"
    [ "$s" = same_zone ] && n="$SAME"
    echo "== $s ($n zones)"
    start="$EPOCHREALTIME"
    rc=0
    printf '#scenario %s\n' "$s" >>"$REPORT"
    FL_ZONES="$n" FL_REPORT="$REPORT" DADNS_E2E_KEEP=1 bash "$ROOT/tests/e2e/test_fault_$s.sh" \
        >"$OUT/$s.log" 2>&1 || rc=$?
    # keep the services' logs next to the scenario's output, drop the rest of the stack
    kept="$(sed -n 's/^# kept \(.*\)$/\1/p' "$OUT/$s.log" | tail -n 1)"
    if [ -n "$kept" ] && [ -d "$kept" ]; then
        cp -r "$kept/logs" "$OUT/$s-logs" 2>/dev/null || true
        rm -rf "$kept"
    fi
    took="$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
    summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/$s.log" | tail -n 1 || true)"
    if [ "$rc" -eq 0 ]; then
        RESULT[$s]="pass"
    else
        RESULT[$s]="FAIL (${summary:-exit $rc})"
        grep -E '^not ok' "$OUT/$s.log" | head -n 5 | sed 's/^/   /' || true
    fi
    echo "   ${RESULT[$s]} in ${took}s; log $OUT/$s.log"
done

echo
echo "Fault-injection figures ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, DADNS_BIN_DIR=$DADNS_BIN_DIR)"
echo
printf '| %-64s | %6s | %9s | %4s | %10s | %11s | %s\n' "fault" "zones" "converged" "lost" \
    "converge s" "pushes ok" "checks |"
printf '|%s|%s|%s|%s|%s|%s|%s\n' "$(printf -- '-%.0s' $(seq 66))" "--------" "-----------" \
    "------" "------------" "-------------" "--------|"
cur=""
while IFS= read -r line; do
    case "$line" in
    "#scenario "*)
        cur="${line#\#scenario }"
        continue
        ;;
    esac
    IFS='|' read -r fault zones ok lost secs pushes <<<"$line"
    printf '| %-64s | %6s | %9s | %4s | %10s | %11s | %s |\n' "$fault" "$zones" "$ok" "$lost" \
        "$secs" "$pushes" "${RESULT[$cur]%% *}"
done <"$REPORT"
for s in "${SCENARIOS[@]}"; do
    if ! grep -qx "#scenario $s" "$REPORT" || [ "$(awk -v s="#scenario $s" '
        $0 == s { on = 1; next } /^#scenario / { on = 0 } on { n++ } END { print n + 0 }' \
        "$REPORT")" -eq 0 ]; then
        printf '| %-64s | %6s | %9s | %4s | %10s | %11s | %s |\n' "$s: no figures (see log)" \
            - - - - - "${RESULT[$s]%% *}"
    fi
done
echo
echo "zones: pushed in the scenario (accepted or not) and checked at its end; converged: served"
echo "by every backend at exactly the latest accepted version, deleted ones gone; lost: not so."
echo "converge s: from the recovery (restart, thaw, replay) to the check that saw it all, an"
echo "upper bound with a few hundred ms of resolution. pushes ok: answered error=0 / sent since"
echo "the previous row."
