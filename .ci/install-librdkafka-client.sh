#!/usr/bin/env bash
# Prepares this machine to build the load generator's optional librdkafka client (@confluentinc/kafka-javascript,
# an optionalDependency in package.json) during the `npm ci` that follows. SOURCE it before `npm ci`:
#
#   . .ci/install-librdkafka-client.sh
#
# Why: the package's install script first downloads a prebuilt binary from GitHub releases; where that is not
# reachable (this CI machine) it builds from the librdkafka source in its npm tarball. That build needs Debian's
# -dev packages below, CKJS_LINKING=dynamic (link those system libraries; without it its configure downloads
# zlib/OpenSSL sources and fails) and npm_config_build_from_source=true (skip the download attempt, which otherwise
# waits out its network timeouts first). ~5 min on a busy 2-core machine. If the build still fails, npm drops the
# optional package (saying so only in its debug log); the project's postinstall (`npm run check:librdkafka`) then
# prints one line with the reason and the log's path, and under CI=true (.ci/run's default) it fails `npm ci`, so a
# CI run cannot silently lose the client.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "install-librdkafka-client.sh must be sourced so npm ci sees its variables: . .ci/install-librdkafka-client.sh" >&2
  exit 2
fi

# What librdkafka's configure links (ssl, sasl_scram, zstd, lz4, curl for OIDC, zlib) and what node-gyp compiles with.
_librdkafka_build_packages=(build-essential python3 pkg-config libssl-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev zlib1g-dev)
_librdkafka_missing=()
for _p in "${_librdkafka_build_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q "install ok installed" || _librdkafka_missing+=("$_p")
done
if [ "${#_librdkafka_missing[@]}" -gt 0 ]; then
  echo "librdkafka client build: installing ${_librdkafka_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_librdkafka_missing[@]}"
fi
unset _p _librdkafka_build_packages _librdkafka_missing

export CKJS_LINKING=dynamic
export npm_config_build_from_source=true
echo "librdkafka client build: CKJS_LINKING=dynamic npm_config_build_from_source=true for npm ci"
