#!/usr/bin/env bash
# zone_vs_named.sh -- the zone validator's data cases against real BIND.
#
# Usage: zone_vs_named.sh <test_zone binary> <zones dir>
# For every NN_topic.zone + NN_topic.expect pair, runs named-checkzone on the zone with the
# origin from its first line ("; origin: NAME") and checks that BIND accepts exactly the zones
# whose .expect says "ok". test_zone checks our validator against the same .expect files, so
# together they show that zone_check and named agree. Prints one line per mismatch and a final
# "N passed, M failed"; exits 1 on any mismatch.
#
# named-checkzone runs with -k fail: named loads a primary zone with check-names fail, while
# named-checkzone only warns by default. Its other defaults (-i full, -m/-M/-n/-S warn) match
# what named refuses: missing addresses for MX/SRV targets and glue are warnings there too.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 <test_zone binary> <zones dir>" >&2
    exit 2
fi
test_zone=$1
zones=$2

if [ ! -x "$test_zone" ]; then
    echo "test_zone binary not found or not executable: $test_zone" >&2
    exit 1
fi
if [ ! -d "$zones" ]; then
    echo "zones directory not found: $zones" >&2
    exit 1
fi
if ! command -v named-checkzone >/dev/null 2>&1; then
    echo "named-checkzone not found (Debian package bind9-utils)" >&2
    exit 1
fi

# Cases where dadns deliberately refuses what named would load, by topic (the name without
# its NN_ prefix). For these named must accept and the .expect must say error.
declare -A known=(
    # named reads the included file; dadns refuses $INCLUDE before anything is opened, since a
    # pushed zone must never make the server read local files. (named happens to refuse this
    # case too, because /etc/passwd is no zone file; the rule holds for any file.)
    [include_refused]="\$INCLUDE is refused for safety"
    # named logs "ignoring out-of-zone data" and loads the rest; dadns refuses the push so the
    # operator sees the mistake instead of silently losing records.
    [origin_outside_zone]="out-of-zone data is refused, named ignores it"
    [record_outside_zone]="out-of-zone data is refused, named ignores it"
    [record_in_sibling_suffix]="out-of-zone data is refused, named ignores it"
    # named takes a NUL inside a quoted string as an octet; dadns refuses NUL anywhere, since the
    # text is stored and passed on as a C string.
    [nul_byte]="NUL bytes are refused"
    # named expands $GENERATE; libzscanner does not know it, so dadns cannot check the records it
    # would produce and refuses it (DirectAdmin never sends it).
    [generate_refused]="\$GENERATE is not supported"
)

passed=0
failed=0
shopt -s nullglob
for zone in "$zones"/*.zone; do
    stem=$(basename "$zone" .zone)
    topic=${stem#*_}
    expect_file="$zones/$stem.expect"
    if [ ! -f "$expect_file" ]; then
        echo "MISMATCH $stem: no $stem.expect"
        failed=$((failed + 1))
        continue
    fi
    origin=$(head -n 1 "$zone" | tr -d '\r' | sed -n 's/^; origin:[[:space:]]*\([^[:space:]]*\).*/\1/p')
    if [ -z "$origin" ]; then
        echo "MISMATCH $stem: first line is not \"; origin: NAME\""
        failed=$((failed + 1))
        continue
    fi
    case $(head -n 1 "$expect_file") in
    ok*) want=accept ;;
    error*) want=reject ;;
    *)
        echo "MISMATCH $stem: .expect must start with \"ok\" or \"error\""
        failed=$((failed + 1))
        continue
        ;;
    esac

    if named-checkzone -q -k fail "$origin" "$zone" >/dev/null 2>&1; then
        named=accept
    else
        named=reject
    fi

    if [ -n "${known[$topic]+x}" ]; then
        if [ "$want" = reject ] && { [ "$named" = accept ] || [ "$topic" = include_refused ]; }; then
            passed=$((passed + 1))
        else
            echo "MISMATCH $stem: listed as a known difference (${known[$topic]}) but expect=$want named=$named"
            failed=$((failed + 1))
        fi
        continue
    fi
    if [ "$want" = "$named" ]; then
        passed=$((passed + 1))
    else
        echo "MISMATCH $stem: expect says $want, named-checkzone would $named (origin $origin)"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
