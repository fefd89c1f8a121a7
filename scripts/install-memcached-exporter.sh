#!/usr/bin/env bash
# Builds the real prometheus/memcached_exporter (a Go module; Debian 12 does not package it) into
# .cache/bin, for the metrics-adapter test that compares our memcached metrics with it family by
# family. Idempotent: does nothing when the pinned version is there.
set -euo pipefail
version="${MEMCACHED_EXPORTER_VERSION:-v0.15.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.cache/bin"
stamp="$bin/memcached_exporter.version"
if [[ -x "$bin/memcached_exporter" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
  echo "memcached_exporter $version already installed at $bin/memcached_exporter"
  exit 0
fi
if ! command -v go >/dev/null; then
  for g in /usr/local/go/bin /usr/lib/go/bin; do [[ -x $g/go ]] && PATH="$g:$PATH"; done
fi
command -v go >/dev/null || { echo "install-memcached-exporter: Go is needed" >&2; exit 1; }
mkdir -p "$bin"
echo "building memcached_exporter $version with go install"
GOBIN="$bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install \
  "github.com/prometheus/memcached_exporter/cmd/memcached_exporter@$version"
echo "$version" >"$stamp"
"$bin/memcached_exporter" --version 2>&1 | head -1
