import { type WatchHandle, watchFiles } from './file-watcher.js';

export interface FileBackedOptions<T> {
  /** the files the value is read from */
  files: readonly string[];
  /** poll interval besides fs events; 0 disables watching (call reload() yourself) */
  watchIntervalMs?: number | undefined;
  /** a new value was loaded */
  onReload?(value: T): void;
  /** changed files were refused; the previous value stays */
  onError?(err: Error): void;
}

/**
 * A value loaded from files that follows them: when one changes (including a Kubernetes Secret's
 * `..data` swap) the value is loaded again; a load that throws is refused and the previous value
 * stays (what the TLS contexts, server and client, are built on).
 */
export class FileBacked<T> {
  private value: T;
  private watcher: WatchHandle | undefined;

  /** Loads now (a throw is the caller's: the files are unusable from the start). */
  constructor(
    private readonly load: () => T,
    private readonly opts: FileBackedOptions<T>,
  ) {
    this.value = load();
    const interval = opts.watchIntervalMs ?? 1000;
    if (interval > 0 && opts.files.length > 0)
      this.watcher = watchFiles([...opts.files], () => this.reload(), interval);
  }

  get current(): T {
    return this.value;
  }

  /** Loads again; false (and onError) when the files are refused. */
  reload(): boolean {
    try {
      this.value = this.load();
      this.opts.onReload?.(this.value);
      return true;
    } catch (err) {
      this.opts.onError?.(err as Error);
      return false;
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
