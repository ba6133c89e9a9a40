#!/usr/bin/env bash
# test_fault_writer_kill.sh -- kill -9 of writer-bind in the middle of a big batch, once while
# it writes zone files and once while named reloads them; after the restart every zone is at its
# latest version in named: nothing older, nothing lost, deleted zones gone.
# The scenario lives in faults_lib.sh (shared with bench/faults.sh); FL_ZONES overrides the size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"

fl_scenario_writer_kill "${FL_ZONES:-300}"
e2e_finish
