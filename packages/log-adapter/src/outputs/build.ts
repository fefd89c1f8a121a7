import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '@dds/core/logger';
import { headerObject, type LogAdapterConfig, readHeaderLines } from '../config.js';
import type { AdapterMetrics } from '../metrics.js';
import { DeadLetter } from './dead-letter.js';
import { OutputQueue } from './output-queue.js';
import type { Sink } from './sink.js';
import { Spool } from './spool.js';
import { StreamSink } from './stream-sink.js';
import type { OutputTarget } from './targets.js';

/** A file's path and a digest of its content ('' when unset), so a rotated certificate counts as a change. */
function fileDigest(file: string): string {
  if (!file) return '';
  try {
    return `${file}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  } catch {
    return `${file}:unreadable`;
  }
}

/** The settings an output of this kind depends on: a reload keeps an output whose key is unchanged. */
export function outputKey(t: OutputTarget, c: LogAdapterConfig): string {
  const common = [
    t.target,
    t.policy,
    c.batchSize,
    c.flushInterval,
    c.bufferSize,
    c.retryLimit,
    c.retryBase,
    c.retryMax,
  ];
  const spool = t.policy === 'spool' ? [c.spoolDir, c.spoolMaxSize] : [];
  const dl = [c.deadLetterDir, c.deadLetterMaxSize];
  const http =
    t.kind === 'http' || t.kind === 'otlp'
      ? [
          c.httpTimeout,
          c.httpHeader,
          c.httpHeadersFile && readHeaderLines(c.httpHeadersFile),
          fileDigest(c.httpTlsCa),
          fileDigest(c.httpTlsCert),
          fileDigest(c.httpTlsKey),
        ]
      : [];
  const otlp = t.kind === 'otlp' ? [c.otlpEncoding, c.otlpCompression] : [];
  const kafka =
    t.kind === 'kafka'
      ? [
          c.kafkaKey,
          c.kafkaCompression,
          c.kafkaClientId,
          c.kafkaTimeout,
          c.kafkaTls,
          fileDigest(c.kafkaTlsCa),
          fileDigest(c.kafkaTlsCert),
          fileDigest(c.kafkaTlsKey),
          c.kafkaTlsServerName,
          c.kafkaSaslMechanism,
          c.kafkaSaslUsername,
          c.kafkaSaslPasswordFile,
        ]
      : [];
  return JSON.stringify([...common, ...spool, ...dl, ...http, ...otlp, ...kafka]);
}

/**
 * The sink of a target. Protocol code loads here, on first use: a process without a Kafka output
 * never loads the Kafka client, one without an HTTP or OTLP output never loads undici's pool.
 */
export async function createSink(t: OutputTarget, c: LogAdapterConfig, logger: Logger): Promise<Sink> {
  const headers = () =>
    headerObject([...(c.httpHeadersFile ? readHeaderLines(c.httpHeadersFile) : []), ...c.httpHeader]);
  const tls = () => ({
    ...(c.httpTlsCa ? { ca: readFileSync(c.httpTlsCa) } : {}),
    ...(c.httpTlsCert ? { cert: readFileSync(c.httpTlsCert), key: readFileSync(c.httpTlsKey) } : {}),
  });
  switch (t.kind) {
    case 'stdout':
      return new StreamSink({ fd: 1 });
    case 'file':
      return new StreamSink({ path: resolve(t.location) });
    case 'http': {
      const { ndjsonSink } = await import('./http-sink.js');
      return ndjsonSink(t.location, c.httpTimeout, headers(), tls());
    }
    case 'otlp': {
      const { OtlpSink } = await import('./otlp-sink.js');
      return new OtlpSink({
        url: t.location,
        encoding: c.otlpEncoding,
        compression: c.otlpCompression,
        timeout: c.httpTimeout,
        headers: headers(),
        tls: tls(),
        logger,
      });
    }
    case 'kafka': {
      const { KafkaSink } = await import('./kafka-sink.js');
      return KafkaSink.create({
        brokers: t.brokers,
        topic: t.topic,
        clientId: c.kafkaClientId,
        keyField: c.kafkaKey,
        compression: c.kafkaCompression,
        timeout: c.kafkaTimeout,
        tls: c.kafkaTls,
        tlsCa: c.kafkaTlsCa,
        tlsCert: c.kafkaTlsCert,
        tlsKey: c.kafkaTlsKey,
        tlsServerName: c.kafkaTlsServerName,
        saslMechanism: c.kafkaSaslMechanism,
        saslUsername: c.kafkaSaslUsername,
        saslPasswordFile: c.kafkaSaslPasswordFile,
        logger,
      });
    }
  }
}

/**
 * The queue of a target around its sink (made first with createSink, which may fail: a reload
 * makes every new sink before it stops an old output). Opens the output's spool and dead-letter
 * file, so a predecessor with the same name must have stopped.
 */
export function buildOutput(
  t: OutputTarget,
  c: LogAdapterConfig,
  sink: Sink,
  logger: Logger,
  metrics: AdapterMetrics,
): OutputQueue {
  const stream = t.kind === 'stdout' || t.kind === 'file';
  let q: OutputQueue | undefined;
  const queue = new OutputQueue({
    name: t.name,
    policy: t.policy,
    sink,
    batchBytes: c.batchSize,
    // stdout and files take each batch as soon as they are idle; network outputs gather batches
    flushInterval: stream ? 0 : c.flushInterval,
    bufferBytes: c.bufferSize,
    retryLimit: c.retryLimit,
    retryBase: c.retryBase,
    retryMax: c.retryMax,
    spool: t.policy === 'spool' ? new Spool(join(resolve(c.spoolDir), t.name), c.spoolMaxSize) : undefined,
    deadLetter: c.deadLetterDir
      ? new DeadLetter(resolve(c.deadLetterDir), t.name, c.deadLetterMaxSize)
      : undefined,
    stats: metrics.forOutput(t.name, () => q?.pending() ?? 0),
    logger,
  });
  q = queue;
  return queue;
}
