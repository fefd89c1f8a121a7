import type { SecureContext, SecureContextOptions } from 'node:tls';
import { DdsError } from '../errors.js';
import { FileBacked } from '../reload/file-backed.js';
import { type KeyPair, validateKeyPair } from './key-pair.js';
import { buildSecureContext, secureContextOptions, type TlsPolicy } from './secure-context.js';
import { loadTlsFiles, type TlsFilePaths } from './tls-files.js';

export interface ReloadableContextOptions {
  paths: TlsFilePaths;
  /** a missing CA file means "no CA" (a TLS Secret without ca.crt) */
  optionalCa?: boolean;
  policy: TlsPolicy;
  /** poll interval besides fs events; 0 disables watching (call reload() yourself) */
  watchIntervalMs?: number;
  onReload?(pair: KeyPair): void;
  /** a changed pair was refused; the previous one keeps serving */
  onError?(err: Error): void;
}

/** One usable generation of a certificate: its checked key pair and the context built from it. */
interface Generation {
  pair: KeyPair;
  context: SecureContext;
  options: SecureContextOptions;
}

/**
 * A certificate, key and CA that follow their files: when they change (including the atomic
 * `..data` symlink swap of a Kubernetes Secret volume) the new pair is parsed, checked and
 * built into a fresh SecureContext that new handshakes use; connections already established
 * keep theirs. A pair that does not parse, does not match or does not build is refused and the
 * previous one keeps serving.
 */
export class ReloadableTlsContext {
  private readonly generation: FileBacked<Generation>;

  /** Loads and checks the files now; throws DdsError (naming the file) when they are unusable. */
  constructor(private readonly opts: ReloadableContextOptions) {
    this.generation = new FileBacked(() => this.load(), {
      files: [opts.paths.cert, opts.paths.key, ...(opts.paths.ca ? [opts.paths.ca] : [])],
      watchIntervalMs: opts.watchIntervalMs,
      onReload: (g) => opts.onReload?.(g.pair),
      onError: opts.onError,
    });
  }

  private get current(): Generation {
    return this.generation.current;
  }

  get context(): SecureContext {
    return this.current.context;
  }

  get pair(): KeyPair {
    return this.current.pair;
  }

  /** Options for tls.Server#setSecureContext (the context used when a client sends no SNI). */
  get options(): SecureContextOptions {
    return this.current.options;
  }

  get paths(): TlsFilePaths {
    return this.opts.paths;
  }

  /** Re-reads the files; returns false (and reports onError) when the new pair is refused. */
  reload(): boolean {
    return this.generation.reload();
  }

  close(): void {
    this.generation.close();
  }

  private load(): Generation {
    const material = loadTlsFiles(this.opts.paths, this.opts.optionalCa);
    const pair = validateKeyPair(material);
    let context: SecureContext;
    try {
      context = buildSecureContext(material, this.opts.policy);
    } catch (err) {
      throw new DdsError(
        'DDS_TLS_FILE',
        `cannot use ${this.opts.paths.cert} / ${this.opts.paths.key}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return { pair, context, options: secureContextOptions(material, this.opts.policy) };
  }
}
