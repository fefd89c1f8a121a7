import { freePort, type Proc, run, startComponent } from '../index.js';

export interface Adapter {
  proc: Proc;
  url: string;
  admin: string;
  stop(): Promise<void>;
}

/** Starts dds-metrics-adapter with one source on free loopback ports and waits until it listens. */
export async function startAdapter(
  source: 'redis' | 'mysql' | 'memcached' | 'json',
  args: string[],
  env: Record<string, string> = {},
): Promise<Adapter> {
  const [port, admin] = [await freePort(), await freePort()];
  const proc = startComponent(
    'metrics-adapter',
    [
      ...args,
      `--${source}-listen`,
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--log-level',
      'info',
    ],
    { env },
  );
  await proc.waitFor(`${source} exporter listening`, 15_000);
  // signal handlers and config watchers are installed once the runner reports "started"
  await proc.waitFor('dds-metrics-adapter 0.1.0 started', 15_000);
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    admin: `http://127.0.0.1:${admin}`,
    async stop() {
      await proc.kill('SIGKILL');
    },
  };
}

export async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

/** `promtool check metrics` on the text: its findings (empty when clean) and exit code. */
export async function promtool(text: string): Promise<{ code: number; findings: string }> {
  const r = await run('promtool', ['check', 'metrics'], { input: text });
  return { code: r.code, findings: (r.stdout + r.stderr).trim() };
}

/** `# TYPE name type` of a family, or undefined. */
export function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
}

/** The sample lines of a family (no HELP/TYPE). */
export function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

/** name -> type of every family in an exposition */
export function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** the sorted label names used by a family's samples (quantile excluded) */
export function labelNames(text: string, name: string): string[] {
  const names = new Set<string>();
  for (const l of samples(text, name)) {
    const inner = /^[^{]*\{(.*)\} \S+$/.exec(l)?.[1] ?? '';
    for (const m of inner.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g))
      if (m[1] !== 'quantile') names.add(m[1]!);
  }
  return [...names].sort();
}
