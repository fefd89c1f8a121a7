import type { SecureContext } from 'node:tls';
import type { KeyPair } from '@dds/core/tls/key-pair';
import { ReloadableTlsContext } from '@dds/core/tls/reloadable-context';
import type { TlsPolicy } from '@dds/core/tls/secure-context';
import { type TlsFilePaths, tlsDirPaths } from '@dds/core/tls/tls-files';
import type { SidecarConfig } from './config.js';

export interface CertificateEvents {
  reloaded(holder: ReloadableTlsContext, pair: KeyPair): void;
  rejected(holder: ReloadableTlsContext, err: Error): void;
}

/**
 * Every certificate the listener serves: the default one (clients without SNI, or with a name
 * no other certificate covers) and optional extra ones chosen by SNI from the DNS names in
 * their certificates. Each follows its files; the SNI table is rebuilt when one reloads.
 */
export class CertificateStore {
  readonly main: ReloadableTlsContext;
  private readonly extra: ReloadableTlsContext[];
  private exact = new Map<string, ReloadableTlsContext>();
  private wildcard = new Map<string, ReloadableTlsContext>();

  /** Loads every file now; throws DdsError naming the file when one is unusable. */
  constructor(config: SidecarConfig, policy: TlsPolicy, events: CertificateEvents) {
    const clientCa = clientCaPath(config);
    const make = (paths: TlsFilePaths): ReloadableTlsContext => {
      const holder: ReloadableTlsContext = new ReloadableTlsContext({
        paths: { ...paths, ca: clientCa },
        policy,
        watchIntervalMs: config.reloadInterval,
        onReload: (pair) => {
          this.index();
          events.reloaded(holder, pair);
        },
        onError: (err) => events.rejected(holder, err),
      });
      return holder;
    };
    const made: ReloadableTlsContext[] = [];
    try {
      made.push(
        make(config.tlsDir ? tlsDirPaths(config.tlsDir, false) : { cert: config.cert, key: config.key }),
      );
      for (const dir of config.sniDirs) made.push(make(tlsDirPaths(dir, false)));
    } catch (err) {
      for (const h of made) h.close();
      throw err;
    }
    this.main = made[0]!;
    this.extra = made.slice(1);
    this.index();
  }

  get all(): readonly ReloadableTlsContext[] {
    return [this.main, ...this.extra];
  }

  /** The context for a server name; the default one when no extra certificate covers it. */
  contextFor(servername: string): SecureContext {
    if (this.extra.length === 0) return this.main.context;
    const name = servername.toLowerCase();
    const hit = this.exact.get(name) ?? this.wildcard.get(name.slice(name.indexOf('.') + 1));
    return (hit ?? this.main).context;
  }

  /** For tls.Server's SNICallback. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(servername));
  };

  close(): void {
    for (const h of this.all) h.close();
  }

  private index(): void {
    const exact = new Map<string, ReloadableTlsContext>();
    const wildcard = new Map<string, ReloadableTlsContext>();
    // Later directories do not override earlier ones; the default certificate is consulted last.
    for (const h of this.extra) {
      const names = h.pair.info.dns.length ? h.pair.info.dns : [h.pair.info.commonName ?? ''];
      for (const raw of names) {
        const n = raw.toLowerCase();
        if (n.startsWith('*.')) {
          if (!wildcard.has(n.slice(2))) wildcard.set(n.slice(2), h);
        } else if (n && !exact.has(n)) exact.set(n, h);
      }
    }
    this.exact = exact;
    this.wildcard = wildcard;
  }
}

/** The CA bundle that verifies client certificates, when client authentication is on. */
export function clientCaPath(config: SidecarConfig): string | undefined {
  if (config.clientAuth === 'none') return undefined;
  if (config.clientCa) return config.clientCa;
  return tlsDirPaths(config.tlsDir, true).ca;
}
