#!/usr/bin/env bash
# Builds every dds image: dds/<component>:<version> and dds/<component>:latest (podman stores them as
# localhost/dds/...). Steps per component:
#   1. tsc -b packages/<c>...                    (incremental, a no-op when dist/ is current)
#   2. one esbuild run -> .cache/images/<c>/app/main.mjs, plus the native addons it cannot bundle
#      (farmhash + detect-libc) under app/node_modules
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

ALL=(demo-app tls-sidecar shard-ambassador experiment-splitter rate-limiter metrics-adapter log-adapter health-adapter)
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=("${ALL[@]}")

NODE_VERSION="${NODE_VERSION:-$(tr -d ' \n' <"$root/.node-version")}"
if [[ -z "${NODE_IMAGE:-}" ]]; then
  NODE_IMAGE="localhost/dds/node-base:$NODE_VERSION"
  [[ "${DDS_SKIP_BASE:-}" == 1 ]] || bash scripts/base-image.sh
fi
export NODE_VERSION NODE_IMAGE

# ESM keeps top-level await and import.meta.url working; the banner gives bundled CommonJS
# dependencies (fastify, pino) the `require` they call for node: built-ins.
banner="import { createRequire as __ddsCreateRequire } from 'node:module'; const require = __ddsCreateRequire(import.meta.url);"
revision="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
created="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"

# ship_addon DEST PACKAGE: copies an installed package's runtime files (no sources, no other OSes).
ship_addon() {
  local dest="$1/node_modules/$2" src="node_modules/$2"
  mkdir -p "$dest"
  cp "$src/package.json" "$dest/"
  find "$src" -maxdepth 1 -type f \( -name '*.js' -o -name 'LICENSE*' \) -exec cp {} "$dest/" \;
  if [[ -d "$src/lib" ]]; then cp -r "$src/lib" "$dest/"; fi
  if [[ -d "$src/build" ]]; then
    mkdir -p "$dest/build"
    find "$src/build" -maxdepth 1 -name '*-linux*.node' -exec cp {} "$dest/build/" \;
  fi
}

# @platformatic/wasm-utils (the log-adapter's Kafka client) reads native.wasm beside its module; its
# ./bundled entry carries the same wasm inline, which is what a single-file bundle needs.
esbuild_flags=(--bundle --platform=node --format=esm --target=node20 --external:farmhash --minify --keep-names
  --legal-comments=none --log-level=warning "--banner:js=$banner"
  --alias:@platformatic/wasm-utils=@platformatic/wasm-utils/bundled)

# bundle_all C...: one esbuild run for every component (much faster than one each on a busy machine);
# if it fails, each is bundled alone so that one broken component does not stop the others.
bundle_all() {
  local entries=() c
  for c in "$@"; do
    rm -rf ".cache/images/$c" && mkdir -p ".cache/images/$c/app"
    entries+=("$c/app/main=packages/$c/dist/main.js")
  done
  node_modules/.bin/esbuild "${entries[@]}" "${esbuild_flags[@]}" --outdir=.cache/images --out-extension:.js=.mjs && return 0
  for c in "$@"; do
    node_modules/.bin/esbuild "packages/$c/dist/main.js" "${esbuild_flags[@]}" --outfile=".cache/images/$c/app/main.mjs" ||
      rm -f ".cache/images/$c/app/main.mjs"
  done
}

build_one() {
  local c="$1"
  local ctx=".cache/images/$c"
  [[ -f "images/$c/Dockerfile" ]] || { echo "images/$c/Dockerfile missing" >&2; return 1; }
  [[ -f "$ctx/app/main.mjs" ]] || { echo "== $c: no bundle (packages/$c/dist/main.js missing or not bundleable)" >&2; return 1; }
  local version
  version="$(node -p "require('./packages/$c/package.json').version")"
  echo "== $c $version"
  echo '{"type":"module"}' >"$ctx/app/package.json"
  # an image whose Dockerfile copies init/catatonit runs it as PID 1 (see images/health-adapter)
  if grep -q 'init/catatonit' "images/$c/Dockerfile"; then
    local init
    init="$(command -v catatonit || echo /usr/libexec/podman/catatonit)"
    install -D -m 0755 "$(readlink -f "$init")" "$ctx/init/catatonit"
    install -D -m 0644 /usr/share/doc/catatonit/copyright "$ctx/init/catatonit.copyright"
  fi
  if grep -q '"farmhash"' "$ctx/app/main.mjs"; then
    ship_addon "$ctx/app" farmhash
    ship_addon "$ctx/app" detect-libc
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
