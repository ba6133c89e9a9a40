#!/usr/bin/env bash
# test_fault_same_zone.sh -- the same zones pushed 50 times with increasing serials by 5
# concurrent clients, then once with the highest serial: named serves what Redis stored last,
# finally the highest serial, and nothing older afterwards.
# The scenario lives in faults_lib.sh (shared with bench/faults.sh); FL_ZONES overrides the size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"

fl_scenario_same_zone "${FL_ZONES:-4}"
e2e_finish
