#!/usr/bin/env bash
# Builds every dds image: dds/<component>:<version> and dds/<component>:latest (podman stores them as
# localhost/dds/...). Steps per component:
#   1. tsc -b packages/<c>...                    (incremental, a no-op when dist/ is current)
#   2. node scripts/bundle.mjs -> .cache/images/<c>/app: main.mjs, chunks/ (loaded on first use), the native
#      addons esbuild cannot bundle (farmhash + detect-libc) under app/node_modules, and app/.compile-cache
#   3. podman build -f images/<c>/Dockerfile .cache/images/<c>, NODE_IMAGE pointed at the local stand-in
# The stand-in base images (Node LTS, Redis, memcached, MariaDB) come from scripts/base-image.sh (cached).
#
# Usage: bash scripts/images.sh [component ...]        (default: every component)
# Env:   NODE_IMAGE=node:24-bookworm-slim  use another base (e.g. on a machine with a registry)
#        DDS_SKIP_BASE=1                   do not (re)build the stand-in base images
#        DDS_IMAGE_JOBS=1                  how many podman builds run at once
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/podman-env.sh
source scripts/podman-env.sh
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh

ALL=(demo-app tls-sidecar shard-ambassador experiment-splitter rate-limiter metrics-adapter log-adapter health-adapter pod)
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=("${ALL[@]}")

NODE_VERSION="${NODE_VERSION:-$(tr -d ' \n' <"$root/.node-version")}"
if [[ -z "${NODE_IMAGE:-}" ]]; then
  NODE_IMAGE="localhost/dds/node-base:$NODE_VERSION"
  [[ "${DDS_SKIP_BASE:-}" == 1 ]] || bash scripts/base-image.sh
fi
export NODE_VERSION NODE_IMAGE

revision="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
created="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"

# bundle_all C...: scripts/bundle.mjs -> .cache/images/<c>/app (main.mjs, chunks/ loaded on first
# use, native addons under node_modules/), then a V8 compile cache for it (warm_cache).
bundle_all() {
  local c
  for c in "$@"; do rm -rf ".cache/images/$c"; done
  node scripts/bundle.mjs .cache/images "$@" || true
  for c in "$@"; do
    if [[ -f ".cache/images/$c/app/main.mjs" ]]; then warm_cache ".cache/images/$c/app"; fi
  done
}

# warm_cache APP: V8 code for the modules the bundle loads at start, compiled here by the Node the
# image ships (.node-version, put on PATH by scripts/node-env.sh) and stored portably (paths relative
# to the cache), so a container does not parse and compile them again: the image sets
# NODE_COMPILE_CACHE=/app/.compile-cache. Node checks each entry against the source and its own
# version, and ignores (never fails on) one that does not match.
warm_cache() {
  local app="$1"
  rm -rf "$app/.compile-cache"
  NODE_COMPILE_CACHE="$app/.compile-cache" NODE_COMPILE_CACHE_PORTABLE=1 node "$app/main.mjs" --version >/dev/null
  chmod -R a+rX "$app/.compile-cache"
}

build_one() {
  local c="$1"
  local ctx=".cache/images/$c"
  [[ -f "images/$c/Dockerfile" ]] || { echo "images/$c/Dockerfile missing" >&2; return 1; }
  [[ -f "$ctx/app/main.mjs" ]] || { echo "== $c: no bundle (packages/$c/dist/main.js missing or not bundleable)" >&2; return 1; }
  local version
  version="$(node -p "require('./packages/$c/package.json').version")"
  echo "== $c $version"
  # an image whose Dockerfile copies init/catatonit runs it as PID 1 (see images/health-adapter);
  # the static binary and its copyright come from the build machine's Debian package
  if grep -q 'init/catatonit' "images/$c/Dockerfile"; then
    local init
    init="$(command -v catatonit || echo /usr/libexec/podman/catatonit)"
    install -D -m 0755 "$(readlink -f "$init")" "$ctx/init/catatonit"
    install -D -m 0644 /usr/share/doc/catatonit/copyright "$ctx/init/catatonit.copyright"
  fi
  podman build --quiet --layers \
    --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "VERSION=$version" \
    --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
    -f "images/$c/Dockerfile" -t "localhost/dds/$c:$version" -t "localhost/dds/$c:latest" "$ctx" >/dev/null || return 1
  echo "   localhost/dds/$c:$version $(podman image inspect --format '{{.Size}}' "localhost/dds/$c:$version" | numfmt --to=iec)"
}

# tsc still emits on type errors; a missing dist/main.js is what stops an image.
projects=()
for c in "${components[@]}"; do projects+=("packages/$c"); done
node_modules/.bin/tsc -b "${projects[@]}" || echo "warning: tsc -b reported errors (building from the emitted dist/)" >&2
present=()
for c in "${components[@]}"; do [[ -f "packages/$c/dist/main.js" ]] && present+=("$c"); done
[[ ${#present[@]} -eq 0 ]] || bundle_all "${present[@]}"

# DDS_IMAGE_JOBS builds at a time (default 1: on a busy 2-core machine parallel builds were not faster).
jobs="${DDS_IMAGE_JOBS:-1}"
logs="$(mktemp -d)"
pids=()
for c in "${components[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || true; done
  (build_one "$c" >"$logs/$c.log" 2>&1 || echo "$c" >"$logs/$c.failed") &
  pids+=($!)
done
wait "${pids[@]}" || true
failed=()
for c in "${components[@]}"; do
  cat "$logs/$c.log"
  [[ ! -f "$logs/$c.failed" ]] || failed+=("$c")
done
rm -rf "$logs"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "image build failed for: ${failed[*]}" >&2
  exit 1
fi
