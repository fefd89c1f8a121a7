import type { Output } from '../outputs/output.js';
import { LineSplitter } from '../pipeline/line-splitter.js';
import { type PipelineOptions, SourcePipeline } from '../pipeline/source-pipeline.js';

/**
 * Reads stdin (`app | dds-log-adapter`). Backpressure pauses the stream, so a slow output
 * slows the writer instead of growing memory. `onEnd` runs after the last record was accepted.
 */
export class StdinInput {
  private readonly splitter: LineSplitter;
  private pipeline: SourcePipeline;
  private timer: NodeJS.Timeout | undefined;
  private lastDataAt = 0;

  constructor(
    private readonly stream: NodeJS.ReadableStream,
    opts: PipelineOptions,
    private readonly output: Output,
    private readonly onEnd: () => void,
  ) {
    this.splitter = new LineSplitter(opts.maxLineLength);
    this.pipeline = new SourcePipeline(opts, '');
  }

  start(): void {
    let base = 0;
    this.stream.on('data', (chunk: Buffer) => {
      const observed = new Date().toISOString();
      this.pipeline.opts.stats.bytesRead += chunk.length;
      this.splitter.push(chunk, base, this.pipeline, observed);
      base += chunk.length;
      this.lastDataAt = Date.now();
      this.pipeline.flush(false);
      this.send();
      this.stream.pause();
      void this.output.room().then(() => this.stream.resume());
    });
    this.stream.on('end', () => {
      this.finish();
      this.onEnd();
    });
    this.timer = setInterval(() => {
      if (this.pipeline.holding() && Date.now() - this.lastDataAt >= this.pipeline.opts.multilineTimeout) {
        this.pipeline.flush(true);
        this.send();
      }
    }, 50);
  }

  /** New parser options (a reload): held records go out with the old ones first. */
  reconfigure(opts: PipelineOptions): void {
    this.pipeline.flush(true);
    this.send();
    this.pipeline = new SourcePipeline(opts, '');
  }

  /** Flushes everything held (end of input or shutdown). */
  finish(): void {
    clearInterval(this.timer);
    this.splitter.flush(this.pipeline, new Date().toISOString());
    this.pipeline.flush(true);
    this.send();
  }

  private send(): void {
    const batch = this.pipeline.take();
    const n = this.pipeline.batchRecords;
    this.pipeline.batchRecords = 0;
    if (batch !== '') this.output.write(batch, n, () => {});
  }
}
