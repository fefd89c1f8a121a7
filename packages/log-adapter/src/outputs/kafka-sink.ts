import { readFileSync } from 'node:fs';
import type { Logger } from '@dds/core/logger';
import { fieldText, forEachLine } from './record-field.js';
import type { SendResult, Sink } from './sink.js';

export interface KafkaSinkOptions {
  brokers: string[];
  topic: string;
  clientId: string;
  /** record field whose value keys each message (same key, same partition) */
  keyField: string;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  timeout: number;
  tls: boolean;
  tlsCa: string;
  tlsCert: string;
  tlsKey: string;
  tlsServerName: string;
  saslMechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
  saslUsername: string;
  saslPasswordFile: string;
  logger: Logger;
}

type KafkaModule = typeof import('@platformatic/kafka');
type Producer = import('@platformatic/kafka').Producer<string, string, string, string>;

/**
 * Kafka through @platformatic/kafka (pure JavaScript, loaded only when a kafka:// output is
 * configured): an idempotent producer with acks=all and compression. One message per record: the
 * record's JSON line as the value, `--kafka-key`'s field as the key. A failed send retires the
 * producer, so the retry starts a new idempotent session instead of tripping over sequence
 * numbers of a batch the broker may or may not have written.
 */
export class KafkaSink implements Sink {
  private producer: Producer | undefined;

  private constructor(
    private readonly kafka: KafkaModule,
    private readonly o: KafkaSinkOptions,
  ) {}

  static async create(o: KafkaSinkOptions): Promise<KafkaSink> {
    return new KafkaSink(await import('@platformatic/kafka'), o);
  }

  private connect(): Producer {
    const o = this.o;
    const tls =
      o.tls || o.tlsCa || o.tlsCert
        ? {
            ...(o.tlsCa ? { ca: readFileSync(o.tlsCa) } : {}),
            ...(o.tlsCert ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : {}),
            ...(o.tlsServerName ? { servername: o.tlsServerName } : {}),
          }
        : undefined;
    const sasl = o.saslMechanism
      ? {
          mechanism: o.saslMechanism.toUpperCase() as 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
          username: o.saslUsername,
          // read on each connection, so a rotated secret file is picked up on reconnect
          password: () => readFileSync(o.saslPasswordFile, 'utf8').trim(),
        }
      : undefined;
    return new this.kafka.Producer({
      clientId: o.clientId,
      bootstrapBrokers: o.brokers,
      serializers: this.kafka.stringSerializers,
      idempotent: true,
      acks: this.kafka.ProduceAcks.ALL,
      compression: o.compression,
      timeout: o.timeout,
      requestTimeout: o.timeout,
      connectTimeout: o.timeout,
      retries: 2,
      retryDelay: 250,
      ...(tls ? { tls } : {}),
      ...(sasl ? { sasl } : {}),
    });
  }

  async send(body: string, _records: number): Promise<SendResult> {
    const messages: Array<{ topic: string; key?: string; value: string }> = [];
    forEachLine(body, (value) => {
      const key = this.o.keyField ? fieldText(JSON.parse(value), this.o.keyField) : undefined;
      messages.push(key === undefined ? { topic: this.o.topic, value } : { topic: this.o.topic, key, value });
    });
    this.producer ??= this.connect();
    try {
      await this.producer.send({ messages });
      return { ok: true };
    } catch (err) {
      const e = err as Error & { errors?: Error[] };
      const reason = [e.message, ...(e.errors ?? []).map((x) => x.message)].join('; ').slice(0, 500);
      const tooLarge = /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|message.*too large/i.test(reason);
      const p = this.producer;
      this.producer = undefined;
      p.close(true).catch(() => {});
      // authorization and invalid-topic errors will not heal by themselves, but the queue holds or
      // dead-letters them the same way; every other failure (broker down, leader moved) is retried
      const permanent = /AUTHORIZATION|SASL|INVALID_TOPIC|UNSUPPORTED/i.test(reason);
      return { ok: false, retry: !permanent && !tooLarge, tooLarge, reason };
    }
  }

  async close(): Promise<void> {
    await this.producer?.close(true).catch(() => {});
    this.producer = undefined;
  }
}
