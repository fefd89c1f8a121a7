import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@dds/test-support';
import {
  ensureImages,
  eventually,
  httpStatus,
  imageRef,
  type K8s,
  type Played,
  play,
} from '@dds/test-support/podman';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The dds/pod image in a podman pod beside an app container: one container hosts an
// experiment-splitter in front of a rate-limiter in front of the app, with one admin port.
let played: Played | undefined;
let front: number;
let admin: number;

beforeAll(async () => {
  await ensureImages(['demo-app', 'pod']);
  [front, admin] = await freePorts(2);
  const dir = mkdtempSync(join(tmpdir(), 'dds-e2e-pod-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'pod.yaml');
  writeFileSync(
    config,
    `admin: 0.0.0.0:9910
components:
  experiment-splitter:
    listen: 0.0.0.0:8082
    control: http://127.0.0.1:8081
    experiment: http://127.0.0.1:8081
    percent: 10
  rate-limiter:
    listen: 127.0.0.1:8081
    upstream: http://127.0.0.1:8080
    rate: 1/m
    burst: 2
`,
  );
  chmodSync(config, 0o644);
  const pod: K8s = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dds-pod-e2e' },
    spec: {
      containers: [
        {
          name: 'app',
          image: imageRef('demo-app'),
          imagePullPolicy: 'Never',
          args: ['--listen', '127.0.0.1:8080', '--admin', 'off'],
        },
        {
          name: 'dds',
          image: imageRef('pod'),
          imagePullPolicy: 'Never',
          args: ['--config', '/etc/dds/pod.yaml'],
          ports: [
            { containerPort: 8082, hostPort: front, hostIP: '127.0.0.1' },
            { containerPort: 9910, hostPort: admin, hostIP: '127.0.0.1' },
          ],
          volumeMounts: [{ name: 'config', mountPath: '/etc/dds', readOnly: true }],
        },
      ],
      volumes: [{ name: 'config', hostPath: { path: dir, type: 'Directory' } }],
    },
  };
  played = await play([pod]);
}, 600_000);

afterAll(async () => {
  await played?.down();
}, 120_000);

describe('image dds/pod in a podman pod', () => {
  it('serves a splitter -> rate limit -> app chain from one container with one admin port', async () => {
    const ready = await eventually(
      'the pod admin /readyz',
      async () => ((await httpStatus(`http://127.0.0.1:${admin}/readyz`)) === 200 ? true : undefined),
      90_000,
    );
    expect(ready).toBe(true);
    const checks = (await (await fetch(`http://127.0.0.1:${admin}/readyz`)).json()) as {
      checks: Record<string, unknown>;
    };
    expect(Object.keys(checks.checks)).toEqual(expect.arrayContaining(['listeners', 'rate-limiter']));
    // each component's admin routes on the one admin port
    expect(await httpStatus(`http://127.0.0.1:${admin}/experiments`)).toBe(200);
    expect(await httpStatus(`http://127.0.0.1:${admin}/ratelimit`)).toBe(200);
    // the app container may still be starting: a 502 was admitted too and spent one of the 3
    // admissions (burst 2, +1 at the start of the minute), so how many 200s remain varies
    await eventually('the app through the chain', async () =>
      (await httpStatus(`http://127.0.0.1:${front}/`)) === 200 ? true : undefined,
    );
    // then the rate limiter refuses, through the splitter: at most 2 more 200s, then only 429s
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await httpStatus(`http://127.0.0.1:${front}/`))!);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeLessThanOrEqual(2);
    expect(statuses).toEqual([...Array(admitted).fill(200), ...Array(4 - admitted).fill(429)]);
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    expect(metrics).toMatch(/component="experiment-splitter"/);
    expect(metrics).toMatch(/component="rate-limiter"/);
  }, 120_000);
});
