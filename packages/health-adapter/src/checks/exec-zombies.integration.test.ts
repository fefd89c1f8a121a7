// An exec check whose command leaves a background process behind: the orphan is re-parented to
// PID 1. In a container, PID 1 is whatever the image starts; node never waits for processes it did
// not spawn, so as PID 1 it collects zombies, one per run. The health-adapter image therefore runs
// catatonit as PID 1 (images/health-adapter/Dockerfile). Both are run here for real, each as PID 1
// of its own PID namespace (unshare), with the image's entrypoint order: the adapter under
// catatonit leaves no zombie, and the same adapter as PID 1 itself does (so the count can fail).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { bin, freePorts, type Proc, start, waitForHttp } from '@dds/test-support';
import { afterEach, describe, expect, it } from 'vitest';

const CATATONIT = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit'].find((p) => existsSync(p));

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      out.push({
        pid: Number(d),
        ppid: Number(ppid),
        state: state!,
        comm: stat.slice(stat.indexOf('(') + 1, close),
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Zombies among the descendants of a process (the whole PID namespace under unshare). */
function zombiesUnder(root: number): ProcInfo[] {
  const all = processes();
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all)
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => inTree.has(p.pid) && p.pid !== root && p.state === 'Z');
}

async function runs(admin: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('dds_health_check_runs_total{check="exec"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** The adapter as PID 1 of a new PID namespace (behind catatonit, or alone), running an exec check every 100 ms. */
async function adapterAsPid1(init: string[]) {
  const [listen, admin] = (await freePorts(2)) as [number, number];
  const p = start('unshare', [
    '--user',
    '--map-root-user',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    ...init,
    process.execPath,
    bin('health-adapter'),
    '--listen',
    `127.0.0.1:${listen}`,
    '--admin',
    `127.0.0.1:${admin}`,
    // the shell exits at once; its sleep is orphaned and re-parented to PID 1
    '--exec',
    'sleep 0.05 & exit 0',
    '--interval',
    '100ms',
  ]);
  procs.push(p);
  const adminUrl = `http://127.0.0.1:${admin}`;
  await waitForHttp(`${adminUrl}/readyz`);
  /** Zombies in the namespace each time the check has run `step` more times, `samples` times. */
  const sample = async (samples: number, step: number): Promise<number[]> => {
    const counts: number[] = [];
    let target = (await runs(adminUrl)) + step;
    while (counts.length < samples) {
      if ((await runs(adminUrl)) >= target) {
        counts.push(zombiesUnder(p.child.pid!).length);
        target += step;
      } else await new Promise((r) => setTimeout(r, 50));
    }
    return counts;
  };
  return { p, sample };
}

describe('exec checks and PID 1', () => {
  it('under catatonit (the image entrypoint) the orphans of exec checks are reaped: no zombies pile up', async () => {
    expect(CATATONIT, 'catatonit (scripts/system-packages.txt) is installed').toBeDefined();
    const a = await adapterAsPid1([CATATONIT!, '--']);
    const counts = await a.sample(3, 10);
    // a process that just exited may be seen for an instant before catatonit reaps it
    expect(Math.max(...counts), `zombies after 10, 20, 30 runs: ${counts}`).toBeLessThanOrEqual(1);
  });

  it('node itself as PID 1 collects one zombie per run (why the image has an init)', async () => {
    const a = await adapterAsPid1([]);
    const counts = await a.sample(3, 10);
    expect(counts[0]!, `zombies after 10, 20, 30 runs: ${counts}`).toBeGreaterThanOrEqual(5);
    expect(counts[2]!).toBeGreaterThan(counts[0]!);
    expect(zombiesUnder(a.p.child.pid!).every((z) => z.comm === 'sleep')).toBe(true);
  });
});
