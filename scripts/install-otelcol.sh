#!/usr/bin/env bash
# Builds a pinned OpenTelemetry Collector from its Go modules (the official builder, ocb) into
# .cache/otelcol/: the OTLP receiver, the contrib filelog receiver (the log-adapter benchmark's peer),
# the debug and otlphttp exporters and the batch processor. The log-adapter's OTLP tests run against
# it; they and the benchmark find the binary at the path this script prints (OTELCOL_BIN overrides).
# Idempotent: does nothing when the binary of the pinned version is there (about 2 minutes otherwise).
set -euo pipefail
OTELCOL_VERSION="${OTELCOL_VERSION:-v0.165.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.cache/otelcol"
binary="$dir/otelcol-dds"
stamp="$dir/version"
if [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$OTELCOL_VERSION" ]]; then
  echo "otelcol $OTELCOL_VERSION already built at $binary"
  exit 0
fi
mkdir -p "$dir/bin"
echo "building otelcol $OTELCOL_VERSION from Go modules (about 2 minutes)"
GOBIN="$dir/bin" CGO_ENABLED=0 go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_VERSION"
cat >"$dir/builder.yaml" <<YAML
dist:
  name: otelcol-dds
  description: OpenTelemetry Collector for dds tests and benchmarks
  output_path: $dir/build
  version: ${OTELCOL_VERSION#v}
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $OTELCOL_VERSION
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver $OTELCOL_VERSION
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $OTELCOL_VERSION
  - gomod: go.opentelemetry.io/collector/exporter/otlphttpexporter $OTELCOL_VERSION
processors:
  - gomod: go.opentelemetry.io/collector/processor/batchprocessor $OTELCOL_VERSION
YAML
CGO_ENABLED=0 "$dir/bin/builder" --config "$dir/builder.yaml" >"$dir/build.log" 2>&1 || {
  tail -40 "$dir/build.log"
  exit 1
}
mv "$dir/build/otelcol-dds" "$binary"
echo "$OTELCOL_VERSION" >"$stamp"
# the version the distribution was built with (dist.version), and proof the binary runs
"$binary" --version
echo "otelcol at $binary"
