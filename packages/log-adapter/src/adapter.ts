import { resolve } from 'node:path';
import type { ComponentContext, Instance } from '@dds/core/runner';
import type { LogAdapterConfig } from './config.js';
import { FileTailer } from './inputs/file-tailer.js';
import { PositionStore } from './inputs/position-store.js';
import { StdinInput } from './inputs/stdin-input.js';
import { registerMetrics } from './metrics.js';
import { HttpOutput } from './outputs/http-output.js';
import type { Output } from './outputs/output.js';
import { StreamOutput } from './outputs/stream-output.js';
import { ParseContext } from './parsers/context.js';
import type { PipelineOptions } from './pipeline/source-pipeline.js';
import { PipelineStats } from './pipeline/stats.js';
import { buildResource, resourceMember } from './resource.js';
import { ZoneClock } from './time/zone-clock.js';

/** Wires inputs (files or stdin) through the pipeline into one output. Config changes apply on restart. */
export function createLogAdapter({
  config,
  logger,
  registry,
}: ComponentContext<LogAdapterConfig>): Instance<LogAdapterConfig> {
  const stats = new PipelineStats();
  const useStdin = config.input.length === 1 && config.input[0] === '-';
  let tailer: FileTailer | undefined;
  const metrics = registerMetrics(registry, stats, () => tailer?.lag() ?? { bytes: 0, seconds: 0, files: 0 });
  const outName = config.output === 'stdout' ? 'stdout' : config.output.startsWith('file:') ? 'file' : 'http';
  const counted = (o: Output): Output => ({
    write: (batch, records, done) =>
      o.write(batch, records, () => {
        if (outName !== 'http') metrics.sent.inc({ output: outName }, records);
        done();
      }),
    room: () => o.room(),
    close: (deadline) => o.close(deadline),
  });
  const outputFile = config.output.startsWith('file:') ? resolve(config.output.slice(5)) : undefined;
  const outputError = (err: Error) =>
    logger.error({ err, output: config.output }, 'output failed; inputs stop here');
  const output = counted(
    config.output === 'stdout'
      ? new StreamOutput({ fd: 1 }, outputError)
      : outputFile
        ? new StreamOutput({ path: outputFile }, outputError)
        : new HttpOutput({
            url: config.output,
            batchBytes: config.httpBatchSize,
            flushInterval: config.httpFlushInterval,
            bufferBytes: config.httpBufferSize,
            overflow: config.httpOverflow,
            retryLimit: config.httpRetryLimit,
            retryBase: config.httpRetryBase,
            retryMax: config.httpRetryMax,
            timeout: config.httpTimeout,
            headers: Object.fromEntries(
              config.httpHeader.map((h) => [
                h.slice(0, h.indexOf(':')).trim(),
                h.slice(h.indexOf(':') + 1).trim(),
              ]),
            ),
            logger,
            onSent: (n) => metrics.sent.inc({ output: 'http' }, n),
            onDropped: (n, reason) => metrics.dropped.inc({ reason }, n),
            onRetry: () => metrics.retries.inc(),
          }),
  );
  const pipeline: PipelineOptions = {
    format: config.format,
    multiline: config.multiline,
    multilineMaxLines: config.multilineMaxLines,
    maxLineLength: config.maxLineLength,
    ctx: new ParseContext(new ZoneClock(config.timezone)),
    resource: resourceMember(buildResource(process.env, config.resource)),
    stats,
  };
  const positionFile = config.positionFile ? resolve(config.positionFile) : undefined;
  const positions = new PositionStore(positionFile);
  if (positions.corrupt)
    logger.error({ file: positionFile }, 'position file unreadable; starting without saved positions');
  let stdin: StdinInput | undefined;
  let syncTimer: NodeJS.Timeout | undefined;

  return {
    async start() {
      if (useStdin) {
        stdin = new StdinInput(
          process.stdin,
          { ...pipeline, multilineTimeout: config.multilineTimeout },
          output,
          () => {
            logger.info('stdin closed; flushing and exiting');
            process.kill(process.pid, 'SIGTERM');
          },
        );
        stdin.start();
        return;
      }
      if (!positionFile) logger.warn('no --position-file: a restart re-reads files from --read-from');
      tailer = new FileTailer({
        patterns: config.input.map((p) => resolve(p)),
        exclude: [positionFile, positionFile && `${positionFile}.tmp`, outputFile].filter(
          (p): p is string => !!p,
        ),
        pollInterval: config.pollInterval,
        readFrom: config.readFrom,
        rotateWait: config.rotateWait,
        fingerprintSize: config.fingerprintSize,
        chunkSize: 256 * 1024,
        multilineTimeout: config.multilineTimeout,
        pipeline,
        positions,
        output,
        logger,
        onEvent: (event) => metrics.fileEvents.inc({ event }),
      });
      tailer.start();
      syncTimer = setInterval(() => {
        positions.save().catch((err) => logger.error({ err }, 'cannot save positions'));
      }, config.positionSync);
    },
    async drain(deadline) {
      clearInterval(syncTimer);
      stdin?.finish();
      await tailer?.stop();
      await output.close(deadline);
      await positions.save().catch((err) => logger.error({ err }, 'cannot save positions'));
      await tailer?.closeFiles();
    },
  };
}
