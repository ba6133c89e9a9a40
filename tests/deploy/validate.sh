#!/usr/bin/env bash
# validate.sh -- offline validation of the deployment files (ctest: deploy_validate). No Docker
# engine or Kubernetes cluster is needed:
#   1. `docker-compose config -q` on deploy/compose/docker-compose.yml, then its invariants
#      (health checks, restart policies, no password in the file, durable Redis, ...);
#   2. `kubectl kustomize` of deploy/k8s/base and deploy/k8s/overlays/example;
#   3. every rendered object against the Kubernetes schema (npm package kubernetes-models,
#      strictly: unknown fields fail) and dadns's invariants (validate-k8s.mjs).
# The operator's files (secrets.env, .env) are made from the committed *.example files in a
# copy of deploy/, as docs/operations.md tells operators to do.
#
# Exit: 0 all passed; 1 a check failed; 77 (the test's SKIP_RETURN_CODE) when a tool is missing
# (kubectl is not in Debian 12's own archive) and everything that could run passed.
# Environment: DADNS_SRC_DIR (repository, default: two levels up from here).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${DADNS_SRC_DIR:-$(cd "$HERE/../.." && pwd)}"

passed=0
failed=0
skipped=0
pass() {
    echo "PASS $*"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $*"
    failed=$((failed + 1))
}
skip() {
    echo "SKIP $*"
    skipped=$((skipped + 1))
}

work="$(mktemp -d "${TMPDIR:-/tmp}/dadns-deploy.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$ROOT/deploy" "$work/deploy"
cp "$work/deploy/compose/secrets.env.example" "$work/deploy/compose/secrets.env"
cp "$work/deploy/compose/.env.example" "$work/deploy/compose/.env"
cp "$work/deploy/k8s/overlays/example/secrets.env.example" \
    "$work/deploy/k8s/overlays/example/secrets.env"

# node + the npm packages (installed once from package-lock.json into tests/deploy/node_modules)
have_node=0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    skip "schema and invariant checks: node/npm not installed (scripts/install-deps.sh installs them)"
elif [ -d "$HERE/node_modules/kubernetes-models" ] && [ -d "$HERE/node_modules/yaml" ]; then
    have_node=1
elif (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1); then
    have_node=1
else
    cat "$work/npm.log"
    fail "npm ci in tests/deploy (kubernetes-models, yaml) did not succeed"
fi

# ---- 1. compose ------------------------------------------------------------------------------
compose=()
if command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
fi
if [ "${#compose[@]}" -eq 0 ]; then
    skip "compose: neither docker-compose nor 'docker compose' is installed (apt-get install docker-compose)"
else
    cdir="$work/deploy/compose"
    if (cd "$cdir" && "${compose[@]}" -f docker-compose.yml config -q) >"$work/compose.err" 2>&1; then
        pass "compose: ${compose[*]} config -q deploy/compose/docker-compose.yml"
        if [ "$have_node" -eq 1 ]; then
            (cd "$cdir" && "${compose[@]}" -f docker-compose.yml config) >"$work/compose.yml"
            if node "$HERE/validate-k8s.mjs" compose "$work/compose.yml" "$cdir/docker-compose.yml" \
                "$cdir"; then
                pass "compose: invariants"
            else
                fail "compose: invariants (above)"
            fi
        fi
    else
        cat "$work/compose.err"
        fail "compose: ${compose[*]} config -q deploy/compose/docker-compose.yml"
    fi
fi

# ---- 2. + 3. kustomize and the schema ----------------------------------------------------------
if ! command -v kubectl >/dev/null 2>&1; then
    skip "k8s: kubectl is not installed (not in Debian 12's own archive: add the Kubernetes apt" \
        "repository, then apt-get install kubectl); deploy/k8s was NOT validated"
else
    rendered=()
    for k in base overlays/example; do
        out="$work/k8s-${k//\//-}.yaml"
        if kubectl kustomize "$work/deploy/k8s/$k" >"$out" 2>"$work/kustomize.err"; then
            pass "k8s: kubectl kustomize deploy/k8s/$k ($(grep -c '^kind:' "$out") objects)"
            rendered+=("$out")
        else
            cat "$work/kustomize.err"
            fail "k8s: kubectl kustomize deploy/k8s/$k"
        fi
    done
    if [ "$have_node" -eq 1 ] && [ "${#rendered[@]}" -gt 0 ]; then
        if node "$HERE/validate-k8s.mjs" k8s "${rendered[@]}"; then
            pass "k8s: schema (kubernetes-models, strict) and invariants"
        else
            fail "k8s: schema (kubernetes-models, strict) and invariants (above)"
        fi
    fi
fi

echo "deploy_validate: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ]; then
    exit 1
fi
if [ "$skipped" -gt 0 ]; then
    exit 77
fi
exit 0
