import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, type Proc, sleep, startComponent, tempDir, waitForHttp } from '../index.js';

export interface Ambassador {
  proc: Proc;
  file: string;
  admin: string;
  statsPort: number;
  /** rewrites the config file (hot reload) and waits for the reload to be applied or rejected */
  rewrite(
    pools: Record<string, unknown>,
    expect?: 'configuration reloaded' | 'configuration rejected',
  ): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the built ambassador with a nutcracker.yaml made of `pools`. Test-only. */
export async function startAmbassador(
  pools: Record<string, unknown>,
  args: string[] = [],
  /** false: return once the admin port answers, ready or not */
  waitReady = true,
): Promise<Ambassador> {
  const dir = tempDir('shard-ambassador');
  const file = join(dir, 'nutcracker.yaml');
  writeFileSync(file, stringify(pools));
  const adminPort = await freePort();
  const statsPort = await freePort();
  const proc = startComponent('shard-ambassador', [
    '-c',
    file,
    '-s',
    String(statsPort),
    '-a',
    '127.0.0.1',
    '--admin',
    `127.0.0.1:${adminPort}`,
    '--reload-interval',
    '200ms',
    ...args,
  ]);
  const admin = `http://127.0.0.1:${adminPort}`;
  try {
    if (waitReady) await waitForHttp(`${admin}/readyz`, 200, 30_000);
    else await waitForHttp(`${admin}/healthz`, 200, 30_000);
  } catch (e) {
    await proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${proc.stdout()}\n${proc.stderr()}`);
  }
  return {
    proc,
    file,
    admin,
    statsPort,
    async rewrite(next, expect = 'configuration reloaded') {
      const count = (s: string) => s.split(expect).length - 1;
      const before = count(proc.stdout() + proc.stderr());
      writeFileSync(file, stringify(next));
      const until = Date.now() + 15_000;
      while (count(proc.stdout() + proc.stderr()) <= before) {
        if (Date.now() > until) throw new Error(`no "${expect}" within 15s:\n${proc.stdout()}`);
        await sleep(50);
      }
    },
    async stop() {
      await proc.kill();
    },
  };
}
