#!/usr/bin/env bash
# Installs a pinned helm (a Go module; helm is not packaged for Debian 12 or npm) into .cache/bin.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.cache/bin"
if [[ -x "$bin/helm" ]] && "$bin/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  echo "helm $HELM_VERSION already installed at $bin/helm"
  exit 0
fi
mkdir -p "$bin"
echo "installing helm $HELM_VERSION with go install (first time takes a few minutes)"
# The version is stamped the way helm's Makefile does, so `helm version` reports it.
GOBIN="$bin" CGO_ENABLED=0 go install \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
"$bin/helm" version --short
