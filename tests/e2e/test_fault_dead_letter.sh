#!/usr/bin/env bash
# test_fault_dead_letter.sh -- zones that always fail (writer-bind: unwritable zone file, a
# retryable error; writer-mysql: zone not managed by dadns, a permanent one) land in the dead
# letters with the contract's fields; dadnsctl dead list / replay / replay --all / discard;
# once the cause is fixed every zone converges and the dead-letter streams are empty.
# The scenario lives in faults_lib.sh (shared with bench/faults.sh); FL_ZONES overrides the size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"

fl_scenario_dead_letter "${FL_ZONES:-100}"
e2e_finish
