#!/usr/bin/env bash
# Runs every vector in ksql/tests/<case>/ (input.json + output.json) on real ksqlDB: the pinned cp-ksqldb-server
# image's ksql-test-runner, with the migrations rendered with the default parameters as the statements file.
# Needs Docker and Node (npx tsx). Prints one line per case and "N passed, N failed"; exits 1 if any failed.
set -euo pipefail

# Pinned ksqlDB image: keep in step with the ksqlDB component's image pin.
KSQLDB_IMAGE="${KSQLDB_IMAGE:-confluentinc/cp-ksqldb-server:8.1.1}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$here/.." && npx --no-install tsx ksql/render-statements.ts 1) > "$work/statements.sql"
echo "statements: $(grep -c ';$' "$work/statements.sql") statements rendered with default parameters; image $KSQLDB_IMAGE"

passed=0
failed=0
start=$(date +%s)
for case_dir in "$here"/tests/*/; do
  name="$(basename "$case_dir")"
  mkdir -p "$work/$name"
  cp "$work/statements.sql" "$case_dir/input.json" "$case_dir/output.json" "$work/$name/"
  if docker run --rm --network none -v "$work/$name:/vector:ro" --entrypoint ksql-test-runner "$KSQLDB_IMAGE" \
      -s /vector/statements.sql -i /vector/input.json -o /vector/output.json > "$work/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/    /' "$work/$name.log" | tail -n 30
  fi
done
echo "$passed passed, $failed failed ($(( $(date +%s) - start )) s)"
[ "$failed" -eq 0 ]
