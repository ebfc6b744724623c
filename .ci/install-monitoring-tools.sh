#!/usr/bin/env bash
# Monitoring tools the tests use, built or fetched OUTSIDE the repository and cached by version:
#   promtool + prometheus  from the Go module proxy (github.com/prometheus/prometheus; Prometheus v3.x is
#                          published as module version v0.3MM.P, so v3.14.0 is v0.314.0)
#   jmx_prometheus_javaagent from Maven Central (io.prometheus.jmx)
# A warm machine finds the binaries under $WATCHPIPE_TOOLS_DIR and does nothing. Prints the directory last;
# test:real and the promtool unit test look there (or at $PROMTOOL / $PROMETHEUS / $JMX_EXPORTER_AGENT).
set -euo pipefail

# Prometheus that kube-prometheus-stack 88.5.3 deploys (values.yaml prometheus.prometheusSpec.image.tag v3.14.0):
# the rule tests run the same rule engine as production.
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-3.14.0}"
# JMX exporter 1.0.1: the newest release on Maven Central (later ones are published on GitHub only). Production
# runs 1.6.0, the agent Strimzi 1.2.0's Kafka image ships; both are the 1.x line (same rule format, counters keep
# their _total suffix).
JMX_EXPORTER_VERSION="${JMX_EXPORTER_VERSION:-1.0.1}"

cache="${WATCHPIPE_TOOLS_DIR:-$HOME/.cache/watchpipe/monitoring}"
prom_dir="$cache/prometheus-$PROMETHEUS_VERSION"
jmx_jar="$cache/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar"
mkdir -p "$cache"

major_minor_patch=(${PROMETHEUS_VERSION//./ })
module_version="v0.$((major_minor_patch[0] * 100 + major_minor_patch[1])).${major_minor_patch[2]}"

if [ -x "$prom_dir/promtool" ] && [ -x "$prom_dir/prometheus" ]; then
  echo "promtool/prometheus $PROMETHEUS_VERSION cached in $prom_dir" >&2
else
  command -v go >/dev/null 2>&1 || { echo "install-monitoring-tools: go is required to build promtool" >&2; exit 1; }
  start=$(date +%s)
  tmp="$prom_dir.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  # `go install pkg@version` refuses modules whose go.mod has replace directives (Prometheus pins cloud.google.com/go
  # that way), so build from a throwaway wrapper module that requires Prometheus and repeats its replace lines.
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  upstream_mod="$(cd "$work" && go mod download -json "github.com/prometheus/prometheus@$module_version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  (
    cd "$work"
    go mod init watchpipe.local/monitoring-tools >/dev/null 2>&1
    awk '/^replace \(/{block=1; print; next} block{print; if ($0 ~ /^\)/) block=0; next} /^replace /{print}' "$upstream_mod" >> go.mod
    go get "github.com/prometheus/prometheus@$module_version" >/dev/null 2>&1 || true
    go get "github.com/prometheus/prometheus/cmd/promtool@$module_version" "github.com/prometheus/prometheus/cmd/prometheus@$module_version"
    # No UI assets (tests use the HTTP API only); -trimpath for a reproducible binary.
    go build -trimpath -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool
    go build -trimpath -o "$tmp/prometheus" github.com/prometheus/prometheus/cmd/prometheus
  )
  rm -rf "$prom_dir" && mv "$tmp" "$prom_dir"
  echo "built promtool/prometheus $PROMETHEUS_VERSION ($module_version) in $(( $(date +%s) - start )) s" >&2
fi

if [ -s "$jmx_jar" ]; then
  echo "jmx_prometheus_javaagent $JMX_EXPORTER_VERSION cached" >&2
else
  url="https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/$JMX_EXPORTER_VERSION/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar"
  curl -fsSL --retry 3 -o "$jmx_jar.tmp" "$url"
  expected="$(curl -fsSL --retry 3 "$url.sha1")"
  actual="$(sha1sum "$jmx_jar.tmp" | cut -d' ' -f1)"
  [ "${expected%% *}" = "$actual" ] || { echo "jmx exporter checksum mismatch ($actual != $expected)" >&2; exit 1; }
  mv "$jmx_jar.tmp" "$jmx_jar"
fi

"$prom_dir/promtool" --version >&2
echo "$cache"
