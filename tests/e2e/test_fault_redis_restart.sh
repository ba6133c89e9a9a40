#!/usr/bin/env bash
# test_fault_redis_restart.sh -- Redis (AOF, appendfsync always) stopped (SIGTERM) and killed
# (-9) during pushes and during writes, then restarted: with the ingest spool on every push is
# answered error=0, and every push answered error=0 is served at the end.
# The scenario lives in faults_lib.sh (shared with bench/faults.sh); FL_ZONES overrides the size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"

fl_scenario_redis_restart "${FL_ZONES:-300}"
e2e_finish
