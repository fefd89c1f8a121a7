#!/usr/bin/env bash
# Fetches a pinned Apache Kafka (broker, controller and command-line tools) from Maven Central into
# .cache/kafka/libs, for the log-adapter's Kafka tests: a single-node KRaft broker on loopback.
# Tests find the jars at the path this script prints (KAFKA_LIBS overrides). Java 17 is needed to run
# them (setup-system.sh installs it). Idempotent: does nothing when the pinned version is there.
set -euo pipefail
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.cache/kafka"
stamp="$dir/version"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$KAFKA_VERSION" && -d "$dir/libs" ]]; then
  echo "kafka $KAFKA_VERSION already in $dir/libs"
  exit 0
fi
mkdir -p "$dir"
rm -rf "$dir/libs"
cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dds.test</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>2.0.17</version></dependency>
  </dependencies>
</project>
POM
echo "fetching kafka $KAFKA_VERSION jars from Maven Central"
(cd "$dir" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=libs)
echo "$KAFKA_VERSION" >"$stamp"
echo "kafka jars at $dir/libs ($(ls "$dir/libs" | wc -l) jars)"
