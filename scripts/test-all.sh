#!/usr/bin/env bash
# The one test command (README, .ci/run): from a fresh Debian 12 machine with npm as root, fetches the
# project's pinned Node LTS (.node-version, the one the images ship), installs everything, builds, lints, type-checks, builds the container images and runs every test
# (unit, integration against real servers, Helm, end-to-end pods), then prints
# "tests: N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
t0=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - t0 ))s)"; }

step "node $(tr -d ' \n' <.node-version)"
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
node --version

step "system packages"
bash scripts/setup-system.sh

step "RLS peers (envoyproxy/ratelimit and a gRPC client, from the Go module proxy)"
bash scripts/install-rls-peers.sh

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "build (turbo, tsc strict)"
npm run build   # turbo + strict tsc; then links the dds-* bins into node_modules/.bin

step "lint (biome) and type-check the whole tree, tests included (root tsconfig.json)"
npx biome check .
npx tsc -b

step "helm"
bash scripts/install-helm.sh

step "memcached_exporter (the metrics adapter's memcached peer)"
bash scripts/install-memcached-exporter.sh

step "OpenTelemetry Collector and Kafka (log-adapter's real backends)"
bash scripts/install-otelcol.sh
bash scripts/install-kafka.sh

step "container images"
bash scripts/images.sh

step "tests (vitest)"
mkdir -p .cache
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest.json || status=$?
step "summary"
node scripts/test-summary.mjs .cache/vitest.json || status=1
exit $status
