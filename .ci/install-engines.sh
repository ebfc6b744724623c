#!/usr/bin/env bash
# Builds the real engines test/real/apiserver.test.ts runs against, from the Go module proxy only:
#   etcd            (a tiny main calling go.etcd.io/etcd/server/v3/etcdmain.Main)
#   kube-apiserver  (k8s.io/kubernetes, with every k8s.io/* staging module replaced by its published v0.x tag:
#                    k8s.io/kubernetes' own go.mod points them at ./staging, which a dependent module cannot use)
#   helm            (go install helm.sh/helm/v3/cmd/helm)
# Binaries land in $WATCHPIPE_ENGINES (default ~/.cache/watchpipe/engines/<name>-<version>/), outside the repo,
# one folder per version: a warm machine finds them and skips the build. Nothing here is committed.
#
# Usage: .ci/install-engines.sh            build what is missing, print the engines folder
#        .ci/install-engines.sh --check    exit 0 only when every binary is already built
set -euo pipefail

# Pins. Keep them in step with test/real/engines.ts (it reads the same folder layout).
ETCD_VERSION="3.6.16"          # current 3.6 patch; kube-apiserver 1.34 supports etcd 3.5.x/3.6.x
KUBE_VERSION="1.34.12"         # current 1.34 patch: the API our EKS clusters run (contract: Kubernetes 1.34)
HELM_VERSION="3.22.0"          # current helm 3 release; renders the charts exactly as `pulumi`'s Helm does

root="${WATCHPIPE_ENGINES:-${XDG_CACHE_HOME:-$HOME/.cache}/watchpipe/engines}"
etcd_bin="$root/etcd-$ETCD_VERSION/etcd"
kube_bin="$root/kube-apiserver-$KUBE_VERSION/kube-apiserver"
helm_bin="$root/helm-$HELM_VERSION/helm"

if [ "${1:-}" = "--check" ]; then
  [ -x "$etcd_bin" ] && [ -x "$kube_bin" ] && [ -x "$helm_bin" ]
  exit $?
fi

command -v go >/dev/null 2>&1 || { echo "install-engines: go is not on PATH (need Go >= 1.24)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log() { printf 'install-engines: %s\n' "$*" >&2; }
took() { log "$1 built in $(( $(date +%s) - $2 )) s"; }

build_etcd() {
  [ -x "$etcd_bin" ] && { log "etcd $ETCD_VERSION cached"; return; }
  local t0; t0=$(date +%s)
  local m="$work/etcd"; mkdir -p "$m"
  cat >"$m/main.go" <<'EOF'
// Command etcd is the upstream etcd server: the same entry point as etcd's own main, built from the module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$m" && go mod init watchpipe.local/etcd >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" \
    && go mod tidy \
    && go build -trimpath -ldflags "-s -w" -o "$m/etcd" .)
  mkdir -p "$(dirname "$etcd_bin")" && mv "$m/etcd" "$etcd_bin"
  took "etcd $ETCD_VERSION" "$t0"
}

build_kube() {
  [ -x "$kube_bin" ] && { log "kube-apiserver $KUBE_VERSION cached"; return; }
  local t0; t0=$(date +%s)
  local m="$work/kube"; mkdir -p "$m"
  # The staging modules k8s.io/kubernetes requires (as v0.0.0) are exactly the ones its go.mod replaces with ./staging.
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$gomod" ] || { log "could not download k8s.io/kubernetes@v$KUBE_VERSION"; exit 1; }
  {
    echo "module watchpipe.local/kube-apiserver"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => ./staging/src/k8s\.io/.*$#replace \1 => \1 v0.'"${KUBE_VERSION#1.}"'#p' "$gomod"
  } >"$m/go.mod"
  grep -c '^replace' "$m/go.mod" | xargs -I{} echo "install-engines: {} staging modules replaced" >&2
  cat >"$m/tools.go" <<'EOF'
//go:build tools

// Package tools pins the kube-apiserver command so `go mod tidy` resolves its whole dependency graph.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF
  local pkg="k8s.io/component-base/version"
  local ld="-s -w -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=${KUBE_VERSION%%.*}"
  ld="$ld -X $pkg.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X $pkg.gitTreeState=clean"
  (cd "$m" && go mod tidy -e >/dev/null 2>"$m/tidy.log" || { cat "$m/tidy.log" >&2; exit 1; }
   go build -trimpath -ldflags "$ld" -o "$m/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  mkdir -p "$(dirname "$kube_bin")" && mv "$m/kube-apiserver" "$kube_bin"
  took "kube-apiserver $KUBE_VERSION" "$t0"
}

build_helm() {
  [ -x "$helm_bin" ] && { log "helm $HELM_VERSION cached"; return; }
  local t0; t0=$(date +%s)
  mkdir -p "$(dirname "$helm_bin")"
  GOBIN="$(dirname "$helm_bin")" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  took "helm $HELM_VERSION" "$t0"
}

t_all=$(date +%s)
build_helm
build_etcd
build_kube
log "engines ready in $(( $(date +%s) - t_all )) s: $root"
echo "$root"
