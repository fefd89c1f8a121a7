import { spawn } from 'node:child_process';
import type * as z from '@dds/core/config/zod';
import type { execCheck } from './check-spec.js';
import { CheckFailure, type Probe } from './probe.js';

/**
 * exec: runs a command (a string through /bin/sh -c, a list without a shell); healthy on exit 0.
 * stdout and stderr are kept up to maxOutput bytes for the check's output and the rest is only
 * counted, so a command that prints gigabytes cannot fill memory. The command runs in its own
 * process group, killed as a whole when the run times out (no orphans left behind).
 */
export function execProbe(spec: z.infer<typeof execCheck>): Probe {
  const [cmd, args] =
    typeof spec.command === 'string'
      ? ['/bin/sh', ['-c', spec.command]]
      : [spec.command[0]!, spec.command.slice(1)];
  return {
    componentType: 'system',
    run(signal) {
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        const kept: Buffer[] = [];
        let keptBytes = 0;
        let dropped = 0;
        const collect = (chunk: Buffer) => {
          const room = spec.maxOutput - keptBytes;
          if (room > 0) {
            const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
            kept.push(part);
            keptBytes += part.length;
          }
          dropped += Math.max(0, chunk.length - Math.max(0, room));
        };
        child.stdout!.on('data', collect);
        child.stderr!.on('data', collect);
        const killGroup = () => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        };
        const onAbort = () => {
          killGroup();
          reject(new CheckFailure('timeout', `${describe()} timed out${outputText()}`));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const describe = () =>
          typeof spec.command === 'string' ? JSON.stringify(spec.command) : spec.command.join(' ');
        const outputText = () => {
          const text = Buffer.concat(kept).toString('utf8').trim();
          const more = dropped > 0 ? ` ... (${dropped} more bytes dropped)` : '';
          return text || more ? `: ${text}${more}` : '';
        };
        child.once('error', (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(new CheckFailure('error', `cannot run ${describe()}: ${err.message}`));
        });
        child.once('close', (code, sig) => {
          signal.removeEventListener('abort', onAbort);
          // children that kept the pipes open are gone with the group
          killGroup();
          if (code === 0) resolve(`exit 0${outputText()}`);
          else reject(new CheckFailure('unhealthy', `${describe()} exited ${code ?? sig}${outputText()}`));
        });
      });
    },
  };
}
