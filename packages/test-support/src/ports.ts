import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Ports handed to processes the tests start. Asking the kernel for port 0 and closing it again is
// racy under load: the kernel gives outgoing connections ports from the same ephemeral range, so a
// client elsewhere in the run can take the port before the process under test binds it (seen as
// an intermittent EADDRINUSE exit in CI). So ports come from below the ephemeral range, where only
// explicit binds land, and each vitest worker gets its own slice so parallel files never collide.

const SLICE = 1000;

/** [low, high) of the ports outside the kernel's ephemeral range. */
function usableRange(): [number, number] {
  let low = 32768;
  let high = 60999;
  try {
    [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number) as [number, number];
  } catch {
    // not Linux: keep the kernel's usual defaults
  }
  return low - 10_000 >= 10_000 ? [10_000, low] : [high + 1, 65_536];
}

const [rangeLow, rangeHigh] = usableRange();
const slices = Math.max(1, Math.floor((rangeHigh - rangeLow) / SLICE));
// VITEST_POOL_ID is stable per worker (1..maxForks) and unique among concurrently running workers.
const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1);
// DDS_TEST_PORT_SLICE shifts every worker's slice, so two test runs on one machine (two checkouts)
// never share ports: give each run its own multiple of the worker count.
const shift = Number(process.env.DDS_TEST_PORT_SLICE ?? 0);
const sliceBase = rangeLow + ((worker - 1 + shift) % slices) * SLICE;
// A fresh start point per test file, so ports a previous file's processes still hold are rare.
let next = Math.floor(Math.random() * SLICE);

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

// Ports the Fetch standard blocks ("bad port": fetch() fails without connecting); of its list
// only 10080 lies in the range used here. Tests reach the processes with fetch().
const FETCH_BLOCKED = new Set([10080]);

/** A TCP port on 127.0.0.1 that is free now and that no other test worker will be given. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = sliceBase + (next++ % SLICE);
    if (FETCH_BLOCKED.has(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${sliceBase}..${sliceBase + SLICE - 1}`);
}

export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) out.push(await freePort());
  return out;
}
