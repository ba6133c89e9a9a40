#!/usr/bin/env bash
# test_fault_backend_down.sh -- named stopped during pushes, then MariaDB stopped during pushes
# (writer-bind and writer-mysql on one stack): the other backend keeps converging, the circuit
# breakers open and close, no attempt is used up, both converge once the server is back.
# The scenario lives in faults_lib.sh (shared with bench/faults.sh); FL_ZONES overrides the size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"

fl_scenario_backend_down "${FL_ZONES:-200}"
e2e_finish
