#!/usr/bin/env bash
# Runs every vector in ksql/tests/<case>/ (input.json + output.json) on real ksqlDB's ksql-test-runner, with the
# migrations rendered with the default parameters as the statements file. The ksqlDB release is the one the program
# deploys: CP_VERSION (contract/confluent.ts), read through ksql/cp-version.ts, so the two cannot drift.
# By default the cp-ksqldb-server image of that release runs under Docker; KSQL_TEST_RUNNER=<path> runs a
# ksql-test-runner installed on this machine instead (it must be that release: set KSQL_ENGINE_VERSION to confirm).
# Needs Node (npx tsx). Prints one line per case and "N passed, N failed"; exits 1 if any failed.
# Arguments: case names to run only those (default: every case).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cp_version="$(cd "$here/.." && npx --no-install tsx ksql/cp-version.ts)"
KSQLDB_IMAGE="confluentinc/cp-ksqldb-server:${cp_version}"
runner="${KSQL_TEST_RUNNER:-}"
if [ -n "$runner" ] && [ "${KSQL_ENGINE_VERSION:-}" != "$cp_version" ]; then
  echo "KSQL_TEST_RUNNER=$runner: set KSQL_ENGINE_VERSION to its ksqlDB version; it must be CP_VERSION $cp_version" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$here/.." && npx --no-install tsx ksql/render-statements.ts 1) > "$work/statements.sql"
echo "statements: $(grep -c ';$' "$work/statements.sql") statements rendered with default parameters; ksqlDB $cp_version (${runner:-$KSQLDB_IMAGE})"

passed=0
failed=0
start=$(date +%s)
if [ "$#" -gt 0 ]; then
  case_dirs=()
  for name in "$@"; do
    [ -d "$here/tests/$name" ] || { echo "no vector ksql/tests/$name" >&2; exit 2; }
    case_dirs+=("$here/tests/$name/")
  done
else
  case_dirs=("$here"/tests/*/)
fi
for case_dir in "${case_dirs[@]}"; do
  name="$(basename "$case_dir")"
  mkdir -p "$work/$name"
  cp "$work/statements.sql" "$case_dir/input.json" "$case_dir/output.json" "$work/$name/"
  if [ -n "$runner" ]; then
    run=("$runner" -s "$work/$name/statements.sql" -i "$work/$name/input.json" -o "$work/$name/output.json")
  else
    run=(docker run --rm --network none -v "$work/$name:/vector:ro" --entrypoint ksql-test-runner "$KSQLDB_IMAGE"
      -s /vector/statements.sql -i /vector/input.json -o /vector/output.json)
  fi
  if "${run[@]}" > "$work/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/    /' "$work/$name.log" | tail -n 30
  fi
done
echo "$passed passed, $failed failed ($(( $(date +%s) - start )) s)"
[ "$failed" -eq 0 ]
