#!/usr/bin/env bash
# Runs Schemathesis (PyPI) against the REST API of the release binary: every operation
# in /api/v1/openapi.json gets generated input, and the run fails on any 5xx or any
# response that does not match the document. A signed-in session with a legacy and a
# story comes first, so authenticated operations are exercised, not just refused.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${E2E_BIN:?set E2E_BIN to the heirloom binary}
site=${LEPTOS_SITE_ROOT:?set LEPTOS_SITE_ROOT to the built site}
venv=${HEIRLOOM_TOOLS_DIR:-$HOME/.cache/heirloom-tools}/venv
port=${SCHEMATHESIS_PORT:-3117}
base="http://127.0.0.1:${port}"
work=$(mktemp -d)

LEPTOS_SITE_ADDR="127.0.0.1:${port}" LEPTOS_SITE_ROOT="$site" HEIRLOOM_DATA_DIR="$work/data" \
  HEIRLOOM_PUBLIC_URL="$base" HEIRLOOM_LOG_LEVEL=warn HEIRLOOM_WRITES_PER_MINUTE_PER_IP=1000000 "$bin" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "$base/readyz" >/dev/null && break
  sleep 0.1
done

json() { curl -sf -b "$work/jar" -c "$work/jar" -H "Origin: $base" -H 'content-type: application/json' "$@"; }
json -d '{"email":"schema@example.org","display_name":"Schema","password":"schemathesis password"}' \
  "$base/api/v1/auth/signup" >/dev/null
legacy=$(json -d '{"name":"Schema legacy"}' "$base/api/v1/legacies" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
json -d "{\"legacy_id\":\"$legacy\",\"title\":\"Seed\",\"body\":\"seed\",\"status\":\"published\"}" "$base/api/v1/stories" >/dev/null
session=$(awk '$6 == "heirloom_session" { print $7 }' "$work/jar")

status=0
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  -H "Cookie: heirloom_session=${session}" -H "Origin: ${base}" \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" --seed 20261121 --request-timeout 10 || status=$?
if grep -q "panicked" "$work/server.log"; then
  echo "schemathesis: the server panicked:"; grep -A5 "panicked" "$work/server.log"; status=1
fi
exit $status
