#!/usr/bin/env bash
# The live demo: installs what it needs, builds, then runs every component on loopback in front of
# the demo app and real Redis / memcached servers, and prints commands to try. Ctrl-C stops it all.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
bash scripts/setup-system.sh
[[ -d node_modules/.bin ]] || npm ci --no-audit --no-fund --loglevel=error
npm run build
exec node scripts/demo.mjs "$@"
