#!/usr/bin/env bash
# Builds what the RLS tests and benchmarks run beside dds-rate-limiter, from the Go module proxy:
#  - envoyproxy/ratelimit (service_cmd), Envoy's reference rate-limit service, pinned below;
#  - dds-rls-client (packages/test-support/peers/rls-client), a gRPC client generated from Envoy's published protos
#    (github.com/envoyproxy/go-control-plane/envoy).
# Idempotent and cached: a binary is rebuilt only when its version or sources change.
# Binaries go to $DDS_PEERS_DIR (default ~/.cache/dds/peers); tests read the same variable.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${DDS_PEERS_DIR:-$HOME/.cache/dds/peers}"
ratelimit_version="v1.4.1-0.20260122083618-3fb702589d36"
mkdir -p "$dir"
if ! command -v go >/dev/null; then
  for g in /usr/local/go/bin /usr/lib/go/bin; do [[ -x $g/go ]] && PATH="$g:$PATH"; done
fi
command -v go >/dev/null || { echo "install-rls-peers: Go is needed (golang from Debian or /usr/local/go)" >&2; exit 1; }

stamp="$dir/ratelimit.version"
if [[ ! -x $dir/ratelimit || "$(cat "$stamp" 2>/dev/null)" != "$ratelimit_version" ]]; then
  echo "building envoyproxy/ratelimit $ratelimit_version"
  (cd "$dir" && GOFLAGS=-buildvcs=false GOBIN="$dir/.bin" go install "github.com/envoyproxy/ratelimit/src/service_cmd@$ratelimit_version")
  mv "$dir/.bin/service_cmd" "$dir/ratelimit"
  echo "$ratelimit_version" >"$stamp"
fi

client_src="$root/packages/test-support/peers/rls-client"
client_sum="$(cat "$client_src"/go.mod "$client_src"/go.sum "$client_src"/*.go | sha256sum | cut -c1-16)"
stamp="$dir/dds-rls-client.version"
if [[ ! -x $dir/dds-rls-client || "$(cat "$stamp" 2>/dev/null)" != "$client_sum" ]]; then
  echo "building dds-rls-client"
  (cd "$client_src" && GOFLAGS=-buildvcs=false go build -o "$dir/dds-rls-client" .)
  echo "$client_sum" >"$stamp"
fi
echo "rls peers: $dir/ratelimit ($ratelimit_version), $dir/dds-rls-client"
