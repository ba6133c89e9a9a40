#!/usr/bin/env bash
# test_fault_replica_claim.sh -- two writer-mysql replicas in one group (powerdns_mysql, served
# by PowerDNS): one killed (-9), then one frozen (SIGSTOP), each holding pending entries; the
# other claims them after writer.claim_idle_s and every zone converges.
# The scenario lives in faults_lib.sh (shared with bench/faults.sh); FL_ZONES overrides the size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"

fl_scenario_replica_claim "${FL_ZONES:-200}"
e2e_finish
