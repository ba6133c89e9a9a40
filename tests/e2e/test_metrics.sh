#!/usr/bin/env bash
# test_metrics.sh -- every service's admin listener on a real stack (obs_lib.sh's scenario:
# zones pushed, one failing into the dead letters): /metrics answers with the expected families
# and values (pushes, requests, writer results, apply histogram, stream and dead-letter gauges),
# /healthz and /readyz answer 200; with Redis stopped /readyz turns 503 (writer and ingest
# without spool) while /healthz stays 200, and recovers, with the consumer's reconnect counted,
# once Redis is back. dadnsctl status shows the writer heartbeat and the recent failures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/obs_lib.sh"

obs_begin
IM="$(metrics_url ingest /metrics)"
WM="$(metrics_url writer /metrics)"
B='backend="bind"'

# --- ingest ---------------------------------------------------------------------------------
da_raw GET /CMD_API_LOGIN_TEST # no credentials: a 401
ING="$(curl -s --max-time 5 "$IM")"
check "ingest /metrics: text format 0.0.4" \
    eval 'curl -s -o /dev/null -w "%{content_type}" "$IM" | grep -q "version=0.0.4"'
check "ingest: pushes accepted = $OBS_PUSHES" \
    eq "$(metric_value "$IM" 'dadns_ingest_pushes_total{result="accepted"}')" "$OBS_PUSHES"
check "ingest: no push rejected or failed" \
    eq "$(metric_value "$IM" 'dadns_ingest_pushes_total{result="error"}')" 0
check "ingest: rawsave 200 requests = $OBS_PUSHES" \
    eq "$(metric_value "$IM" 'dadns_http_requests_total{endpoint="rawsave",code="200"}')" \
    "$OBS_PUSHES"
check "ingest: the unauthenticated login test counted as 401" \
    eq "$(metric_value "$IM" 'dadns_http_requests_total{endpoint="login_test",code="401"}')" 1
check "ingest: publish histogram count = $OBS_PUSHES" \
    eq "$(metric_value "$IM" 'dadns_ingest_publish_seconds_count')" "$OBS_PUSHES"
check "ingest: spool records 0" eq "$(metric_value "$IM" 'dadns_ingest_spool_records')" 0
check "ingest: build info" has "$ING" 'dadns_build_info{version="'
check "ingest: redis up" eq "$(metric_value "$IM" 'dadns_redis_up')" 1
check "ingest: 1 dead letter for bind" eq "$(metric_value "$IM" "dadns_dead_letters{$B}")" 1
check "ingest: stream length reported" metric_ge "$IM" 'dadns_stream_length' 1
check "ingest: no zone name in any label" lacks "$ING" 'obs1.test'

# --- writer-bind ----------------------------------------------------------------------------
check "writer: applied >= $OBS_GOOD" \
    metric_ge "$WM" "dadns_writer_changes_total{$B,result=\"applied\"}" "$OBS_GOOD"
check "writer: 1 dead" eq "$(metric_value "$WM" "dadns_writer_changes_total{$B,result=\"dead\"}")" 1
check "writer: retry >= 1" metric_ge "$WM" "dadns_writer_changes_total{$B,result=\"retry\"}" 1
check "writer: apply histogram count >= 1" \
    metric_ge "$WM" "dadns_writer_apply_seconds_count{$B}" 1
check "writer: apply histogram +Inf bucket = count" \
    eq "$(metric_value "$WM" "dadns_writer_apply_seconds_bucket{$B,le=\"+Inf\"}")" \
    "$(metric_value "$WM" "dadns_writer_apply_seconds_count{$B}")"
check "writer: breaker closed" eq "$(metric_value "$WM" "dadns_writer_breaker_open{$B}")" 0
check "writer: last apply timestamp set" \
    metric_ge "$WM" "dadns_writer_last_apply_timestamp_seconds{$B}" "$(($(date +%s) - 300))"
check "writer: stream pending 0" eq "$(metric_value "$WM" 'dadns_stream_pending{group="bind"}')" 0
check "writer: stream lag 0" eq "$(metric_value "$WM" 'dadns_stream_lag{group="bind"}')" 0
check "writer: oldest pending 0" \
    eq "$(metric_value "$WM" 'dadns_stream_oldest_pending_seconds{group="bind"}')" 0
check "writer: 1 consumer" eq "$(metric_value "$WM" 'dadns_stream_consumers{group="bind"}')" 1
check "writer: 1 dead letter" eq "$(metric_value "$WM" "dadns_dead_letters{$B}")" 1
check "writer: redis up" eq "$(metric_value "$WM" 'dadns_redis_up')" 1

# --- health and readiness -------------------------------------------------------------------
for s in ingest writer; do
    check "$s /healthz 200" eq "$(http_code "$(metrics_url $s /healthz)")" 200
    check "$s /livez 200" eq "$(http_code "$(metrics_url $s /livez)")" 200
    check "$s /readyz 200" eq "$(http_code "$(metrics_url $s /readyz)")" 200
done
check "ingest main port /readyz 200 too" eq "$(http_code "http://127.0.0.1:$INGEST_PORT/readyz")" 200

# --- dadnsctl status: heartbeat and failures -------------------------------------------------
ctl_out="$("$DADNSCTL_BIN" -c "$DADNS_CONF" status 2>&1 || true)"
check "dadnsctl status: writer heartbeat row" has "$ctl_out" "HEARTBEAT"
check "dadnsctl status: recent failures name the zone" has "$ctl_out" "$OBS_BAD"
check "dadnsctl status: the dead and the retrying attempt" \
    eval 'has "$ctl_out" " dead " && has "$ctl_out" "retrying"'
ctl_json="$("$DADNSCTL_BIN" -c "$DADNS_CONF" status --json 2>&1 || true)"
check "dadnsctl status --json: writers and failures" \
    eval 'has "$ctl_json" "\"writers\"" && has "$ctl_json" "\"failures_total\""'

# --- Redis down -----------------------------------------------------------------------------
stack_stop redis
check "writer /readyz 503 with Redis down" \
    wait_until 10 eval '[ "$(http_code "$(metrics_url writer /readyz)")" = 503 ]'
check "writer /readyz says why" \
    has "$(curl -s --max-time 5 "$(metrics_url writer /readyz)")" "not ready: redis:"
check "ingest /readyz 503 with Redis down (no spool)" \
    eq "$(http_code "$(metrics_url ingest /readyz)")" 503
check "writer /healthz still 200" eq "$(http_code "$(metrics_url writer /healthz)")" 200
check "ingest /healthz still 200" eq "$(http_code "$(metrics_url ingest /healthz)")" 200
check "writer: redis_up 0" eq "$(metric_value "$WM" 'dadns_redis_up')" 0
check "writer: no stream gauge while Redis is down" \
    eq "$(metric_value "$WM" 'dadns_stream_length')" ""

stack_start_redis
check "writer /readyz 200 again once Redis is back" \
    wait_until 30 eval '[ "$(http_code "$(metrics_url writer /readyz)")" = 200 ]'
check "ingest /readyz 200 again" \
    wait_until 10 eval '[ "$(http_code "$(metrics_url ingest /readyz)")" = 200 ]'
check "writer: the consumer's reconnect is counted" \
    wait_until 20 metric_ge "$WM" 'dadns_redis_reconnects_total' 1
e2e_finish
