import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Proc, ROOT, run, selfSignedCert, start, tempDir, waitForPort } from '../index.js';

// Real backends for the log-adapter's output tests: an OpenTelemetry Collector built from its Go
// modules (scripts/install-otelcol.sh) and a single-node KRaft Kafka from the Maven jars
// (scripts/install-kafka.sh). scripts/test-all.sh runs both scripts before the tests.

export const OTELCOL_BIN = process.env.OTELCOL_BIN ?? join(ROOT, '.cache/otelcol/otelcol-dds');
export const KAFKA_LIBS = process.env.KAFKA_LIBS ?? join(ROOT, '.cache/kafka/libs');

export interface OtlpJsonRecord {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: { stringValue?: string };
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  traceId?: string;
  spanId?: string;
}
export interface Arrival {
  resource: Record<string, unknown>;
  record: OtlpJsonRecord;
}

/**
 * An OTLP/HTTP JSON endpoint that records what the collector forwards: the collector decodes what
 * the adapter sent into its own data model (pdata) and re-encodes it, so what arrives here is
 * where the OTel log data model put each field.
 */
export async function startRecorder(port: number): Promise<{ arrivals: Arrival[]; server: Server }> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const doc = JSON.parse(body.toString()) as {
        resourceLogs?: Array<{
          resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> };
          scopeLogs?: Array<{ logRecords?: OtlpJsonRecord[] }>;
        }>;
      };
      for (const rl of doc.resourceLogs ?? []) {
        const resource = Object.fromEntries(
          (rl.resource?.attributes ?? []).map((a) => [a.key, plain(a.value)]),
        );
        for (const sl of rl.scopeLogs ?? [])
          for (const record of sl.logRecords ?? []) arrivals.push({ resource, record });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { arrivals, server };
}

/** An OTLP AnyValue as a plain value (intValue as a number). */
export function plain(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v)
    return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(plain);
  if ('kvlistValue' in v)
    return Object.fromEntries(
      (
        (v.kvlistValue as { values?: Array<{ key: string; value: Record<string, unknown> }> }).values ?? []
      ).map((kv) => [kv.key, plain(kv.value)]),
    );
  return undefined;
}

export const attrs = (r: OtlpJsonRecord): Record<string, unknown> =>
  Object.fromEntries((r.attributes ?? []).map((a) => [a.key, plain(a.value)]));

/**
 * A collector: OTLP/HTTP receiver on `port`, forwarding to the recorder with no queue and no
 * retries of its own, so it answers the adapter only once the record reached the recorder.
 */
export function startCollector(
  port: number,
  recorderPort: number,
  metricsPort: number,
  tls?: { cert: string; key: string },
): Proc {
  const dir = tempDir('otelcol');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}${tls ? `\n        tls:\n          cert_file: ${tls.cert}\n          key_file: ${tls.key}` : ''}
exporters:
  otlphttp:
    logs_endpoint: http://127.0.0.1:${recorderPort}/v1/logs
    encoding: json
    compression: none
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
service:
  telemetry:
    logs:
      level: warn
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${metricsPort}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [otlphttp]
`,
  );
  return start(OTELCOL_BIN, ['--config', config]);
}

/** The collector's own count of accepted log records (its Prometheus metrics). */
export async function collectorAccepted(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let n = 0;
  for (const l of text.split('\n'))
    if (l.startsWith('otelcol_receiver_accepted_log_records') && l.includes('receiver="otlp"'))
      n += Number(l.slice(l.lastIndexOf(' ') + 1));
  return n;
}

export interface Kafka {
  port: number;
  /** a SASL_PLAINTEXT listener (PLAIN; user `alice`, password `alice-secret`) */
  saslPort: number;
  /** a TLS listener with a self-signed certificate for 127.0.0.1 (`tlsCa` verifies it) */
  tlsPort: number;
  tlsCa: string;
  proc: Proc;
  dir: string;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  createTopic(topic: string, partitions?: number): Promise<void>;
  /** every message of a topic from the beginning (`expected`: how many there are) */
  consume(topic: string, expected: number): Promise<Array<{ key: string; value: string }>>;
  /** messages in a topic (sum of the partitions' end offsets) */
  count(topic: string): Promise<number>;
}

const java = (cls: string, args: string[], timeoutMs = 60_000) =>
  run('java', ['-Xmx256m', '-cp', `${KAFKA_LIBS}/*`, cls, ...args], { timeoutMs });

/** A single-node KRaft broker on loopback; stop() and start() keep its data (an outage). */
export async function startKafka(
  port: number,
  controllerPort: number,
  saslPort: number,
  tlsPort: number,
): Promise<Kafka> {
  const dir = tempDir('kafka');
  // Kafka reads a PEM keystore from one file: the (PKCS#8, unencrypted) key, then the certificate
  const cert = selfSignedCert('127.0.0.1');
  const keystore = join(dir, 'keystore.pem');
  writeFileSync(keystore, `${cert.keyPem}${cert.pem}`);
  const data = join(dir, 'data');
  mkdirSync(data);
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${tlsPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${tlsPort}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT',
      'listener.name.ssl.ssl.keystore.type=PEM',
      `listener.name.ssl.ssl.keystore.location=${keystore}`,
      'inter.broker.listener.name=PLAINTEXT',
      'sasl.enabled.mechanisms=PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
      `log.dirs=${data}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  const uuid = (await java('kafka.tools.StorageTool', ['random-uuid'])).stdout.trim().split('\n').pop()!;
  const fmt = await java('kafka.tools.StorageTool', ['format', '-t', uuid, '-c', props]);
  if (fmt.code !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr}`);
  const k: Kafka = {
    port,
    saslPort,
    tlsPort,
    tlsCa: cert.cert,
    dir,
    proc: undefined as unknown as Proc,
    async start() {
      k.proc = start('java', ['-Xmx512m', '-cp', `${KAFKA_LIBS}/*`, 'kafka.Kafka', props], {
        env: { LOG_DIR: join(dir, 'logs') },
      });
      // the broker binds its listener once it is ready to serve (it logs nothing: no slf4j binding)
      await waitForPort(port, '127.0.0.1', 60_000);
    },
    async stop(signal = 'SIGTERM') {
      await k.proc.kill(signal);
    },
    async createTopic(topic, partitions = 1) {
      const r = await java('org.apache.kafka.tools.TopicCommand', [
        '--bootstrap-server',
        `127.0.0.1:${port}`,
        '--create',
        '--topic',
        topic,
        '--partitions',
        String(partitions),
        '--replication-factor',
        '1',
      ]);
      if (r.code !== 0) throw new Error(`create topic failed: ${r.stderr}`);
    },
    async count(topic) {
      const r = await java('org.apache.kafka.tools.GetOffsetShell', [
        '--bootstrap-server',
        `127.0.0.1:${port}`,
        '--topic',
        topic,
      ]);
      if (r.code !== 0) throw new Error(`GetOffsetShell failed: ${r.stderr}`);
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith(`${topic}:`))
        .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(':') + 1)), 0);
    },
    async consume(topic, expected) {
      const r = await java(
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        [
          '--bootstrap-server',
          `127.0.0.1:${port}`,
          '--topic',
          topic,
          '--from-beginning',
          '--max-messages',
          String(expected),
          '--timeout-ms',
          '10000',
          '--property',
          'print.key=true',
          '--property',
          'key.separator=\t',
        ],
        90_000,
      );
      return r.stdout
        .split('\n')
        .filter((l) => l.includes('\t'))
        .map((l) => ({ key: l.slice(0, l.indexOf('\t')), value: l.slice(l.indexOf('\t') + 1) }));
    },
  };
  await k.start();
  return k;
}
