import { once } from 'node:events';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePorts, type Proc, run, startComponent, tempDir, waitForHttp } from '@dds/test-support';
import { arrivedAt } from '@dds/test-support/lifecycle';
import { afterEach, describe, expect, it } from 'vitest';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

async function demo(args: string[], env: Record<string, string> = {}) {
  const [port, admin] = await freePorts(2);
  const p = startComponent(
    'demo-app',
    ['--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, ...args],
    { env },
  );
  procs.push(p);
  await waitForHttp(`http://127.0.0.1:${admin}/readyz`);
  return {
    p,
    port: port!,
    admin: admin!,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${admin}`,
  };
}

/** A Kubernetes-style ConfigMap mount: file -> ..data/file, ..data -> ..<timestamp> */
function configMapDir(name: string, content: string) {
  const dir = tempDir('configmap');
  let n = 0;
  const publish = (text: string) => {
    const version = `..2026_11_28_${n++}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, name), text);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  publish(content);
  symlinkSync(join('..data', name), join(dir, name));
  return { file: join(dir, name), publish };
}

describe('configuration errors', () => {
  it('exit 2 and name the field and where the value came from', async () => {
    const flag = await run(process.execPath, ['packages/demo-app/dist/main.js', '--fail-rate', '3']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/failRate: .*1.* \(got 3\) \[from flag --fail-rate\]/);

    const env = await run(process.execPath, ['packages/demo-app/dist/main.js'], {
      env: { DDS_LISTEN: 'nowhere' },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('listen: invalid address');
    expect(env.stderr).toContain('[from env DDS_LISTEN]');

    const dir = tempDir('badcfg');
    writeFileSync(join(dir, 'c.yaml'), 'name: ok\nlisten: 127.0.0.1:1\ndelay: soon\nunknownKey: 1\n');
    const file = await run(process.execPath, [
      'packages/demo-app/dist/main.js',
      '--config',
      join(dir, 'c.yaml'),
    ]);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('delay:');
    expect(file.stderr).toContain('unknownKey');
    expect(file.stderr).toContain(`[from file ${join(dir, 'c.yaml')}]`);

    const unknown = await run(process.execPath, ['packages/demo-app/dist/main.js', '--nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown flag --nope');
  });

  it('an unknown YAML key is reported from its file, with the closest key', async () => {
    const dir = tempDir('typo');
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'listen: 127.0.0.1:1\nmesage: hi\nunknownKey: 1\n');
    const r = await run(process.execPath, ['packages/demo-app/dist/main.js', '--config', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `dds-demo-app: invalid configuration:\n  mesage: unknown key (did you mean "message"?) [from file ${f}]\n  unknownKey: unknown key [from file ${f}]\n`,
    );
  });

  it('a misspelled flag gets the closest one', async () => {
    const r = await run(process.execPath, ['packages/demo-app/dist/main.js', '--lisen', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('dds-demo-app: unknown flag --lisen (did you mean --listen?) (see --help)\n');
  });

  it('an unknown DDS_* variable is a warning naming the closest one, at start and with --check-config', async () => {
    const env = { DDS_MESAGE: 'typo', DDS_TEST_ANYTHING: 'tooling', DDS_ZZZ_UNRELATED: '1' };
    const check = await run(process.execPath, ['packages/demo-app/dist/main.js', '--check-config'], { env });
    expect(check.code).toBe(0);
    expect(check.stderr).toBe(
      'dds-demo-app: warning: DDS_MESAGE is not a setting of dds-demo-app (did you mean DDS_MESSAGE?); ignored\n' +
        'dds-demo-app: warning: DDS_ZZZ_UNRELATED is not a setting of dds-demo-app; ignored\n',
    );
    const [port, admin] = await freePorts(2);
    const p = startComponent('demo-app', ['--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`], {
      env,
    });
    procs.push(p);
    await p.waitFor('started');
    const warnings = p
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"level":"warn"'))
      .map((l) => JSON.parse(l) as { variable: string; didYouMean?: string; msg: string });
    expect(warnings.map(({ variable, didYouMean }) => ({ variable, didYouMean }))).toEqual([
      { variable: 'DDS_MESAGE', didYouMean: 'DDS_MESSAGE' },
      { variable: 'DDS_ZZZ_UNRELATED', didYouMean: undefined },
    ]);
  });

  it('a busy admin port and a busy listener fail alike: exit 2, one line naming the flag, no stack', async () => {
    const [busy, free] = await freePorts(2);
    const holder = createServer().listen(busy, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const cases = [
        { flag: 'admin', args: ['--listen', `127.0.0.1:${free}`, '--admin', `127.0.0.1:${busy}`] },
        { flag: 'listen', args: ['--listen', `127.0.0.1:${busy}`, '--admin', `127.0.0.1:${free}`] },
        {
          flag: 'admin',
          args: ['--listen', `127.0.0.1:${free}`, '--admin', `127.0.0.1:${busy}`, '--workers', '2'],
        },
        {
          flag: 'listen',
          args: ['--listen', `127.0.0.1:${busy}`, '--admin', `127.0.0.1:${free}`, '--workers', '2'],
        },
      ];
      for (const c of cases) {
        const r = await run(process.execPath, ['packages/demo-app/dist/main.js', ...c.args]);
        const what = `${c.args.join(' ')}: ${r.stdout}${r.stderr}`;
        expect(r.code, what).toBe(2);
        const fatal = r.stdout
          .split('\n')
          .filter((l) => l.includes('"level":"fatal"'))
          .map((l) => JSON.parse(l) as { msg: string; flag?: string; code: string; err?: unknown });
        expect(fatal[0], what).toMatchObject({
          code: 'DDS_LISTEN',
          flag: c.flag,
          msg: `cannot start: --${c.flag}: cannot listen on 127.0.0.1:${busy}: EADDRINUSE (another process, or another listener of this process, holds that address)`,
        });
        expect(fatal[0]!.err, 'no stack for a known condition').toBeUndefined();
        expect(r.stdout).not.toContain('    at ');
      }
    } finally {
      holder.close();
    }
  });

  it('--check-config validates and exits; --print-config shows the merged result', async () => {
    const dir = tempDir('cfg');
    writeFileSync(join(dir, 'c.yaml'), 'name: from-file\nmessage: file\nlisten: 127.0.0.1:1111\n');
    const ok = await run(process.execPath, [
      'packages/demo-app/dist/main.js',
      '--config',
      join(dir, 'c.yaml'),
      '--check-config',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('is valid');
    const printed = await run(
      process.execPath,
      [
        'packages/demo-app/dist/main.js',
        '--config',
        join(dir, 'c.yaml'),
        '--print-config',
        '--name',
        'from-flag',
      ],
      {
        env: { DDS_MESSAGE: 'from-env', DDS_NAME: 'env-name' },
      },
    );
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('name: from-flag');
    expect(printed.stdout).toContain('message: from-env');
    expect(printed.stdout).toContain('listen: 127.0.0.1:1111');
    expect(printed.stdout).toContain('drainTimeout: 30000');
  });

  it('--help lists every flag with defaults, --version prints the version', async () => {
    const help = await run(process.execPath, ['packages/demo-app/dist/main.js', '--help']);
    expect(help.code).toBe(0);
    for (const f of [
      '--listen',
      '--admin',
      '--log-level',
      '--drain-timeout',
      '--shutdown-delay',
      '--check-config',
      '--print-config',
      '--config',
    ]) {
      expect(help.stdout).toContain(f);
    }
    const v = await run(process.execPath, ['packages/demo-app/dist/main.js', '--version']);
    expect(v.stdout.trim()).toBe('dds-demo-app 0.1.0');
  });
});

describe('admin server', () => {
  it('serves healthz, readyz, config (redacted) and metrics that pass promtool', async () => {
    const d = await demo(['--message', 'hi']);
    const health = (await (await fetch(`${d.adminUrl}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const ready = await fetch(`${d.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(
      ((await ready.json()) as { checks: Record<string, { ready: boolean }> }).checks.listeners.ready,
    ).toBe(true);
    const cfg = (await (await fetch(`${d.adminUrl}/config`)).json()) as { message: string };
    expect(cfg.message).toBe('hi');
    const m = await fetch(`${d.adminUrl}/metrics`);
    expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await m.text();
    expect(text).toContain('dds_process_cpu_user_seconds_total');
    expect(text).toContain('dds_build_info{component="demo-app"');
    expect(text).toContain('dds_config_reload_failures_total 0');
    const lint = await run('promtool', ['check', 'metrics'], { input: text });
    expect(lint.stderr + lint.stdout).toBe('');
    expect(lint.code).toBe(0);
  });

  it('can be switched off', async () => {
    const [port] = await freePorts(1);
    const p = startComponent('demo-app', ['--listen', `127.0.0.1:${port}`, '--admin', 'off']);
    procs.push(p);
    await waitForHttp(`http://127.0.0.1:${port}/`);
    expect(p.stdout()).toContain('"admin":"off"');
  });
});

describe('lifecycle', () => {
  it('SIGTERM: readyz turns 503, the in-flight request completes, exit 0', async () => {
    const d = await demo(['--drain-timeout', '10s']);
    const slow = fetch(`${d.url}/slow?ms=1500`).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));
    await arrivedAt(d.url, '/slow');
    d.p.child.kill('SIGTERM');
    await d.p.waitFor('"msg":"draining"');
    const ready = await fetch(`${d.adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('draining');
    // new connections are refused once draining began
    await expect(fetch(`${d.url}/`)).rejects.toThrow();
    expect(await slow).toEqual({ status: 200, body: 'slept 1500ms\n' });
    expect(await d.p.exited).toBe(0);
  });

  it('keeps accepting during --shutdown-delay while readyz is already 503', async () => {
    const d = await demo(['--shutdown-delay', '1s']);
    d.p.child.kill('SIGTERM');
    await d.p.waitFor('"msg":"draining"');
    expect((await fetch(`${d.adminUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${d.url}/`)).status).toBe(200);
    expect(await d.p.exited).toBe(0);
  });

  it('a second signal exits at once', async () => {
    const d = await demo(['--drain-timeout', '30s']);
    void fetch(`${d.url}/slow?ms=20000`).catch(() => {});
    await arrivedAt(d.url, '/slow');
    d.p.child.kill('SIGTERM');
    await d.p.waitFor('"msg":"draining"');
    d.p.child.kill('SIGTERM');
    expect(await d.p.exited).toBe(130);
  });
});

describe('hot reload', () => {
  it('applies a config delivered by a ..data symlink swap and rejects an invalid one', async () => {
    const cm = configMapDir('demo.yaml', 'message: first\n');
    const d = await demo(['--config', cm.file, '--reload-interval', '200ms']);
    expect(await (await fetch(`${d.url}/`)).text()).toBe('first\n');

    // keep one keep-alive connection open across reloads: it must never drop
    const agentBody = async () => (await fetch(`${d.url}/`)).text();
    cm.publish('message: second\n');
    await d.p.waitFor('configuration reloaded');
    expect(await agentBody()).toBe('second\n');

    cm.publish('message: third\nfailRate: 5\n');
    await d.p.waitFor('configuration rejected');
    expect(d.p.stdout()).toMatch(/failRate/);
    expect(await agentBody()).toBe('second\n');
    const metrics = await (await fetch(`${d.adminUrl}/metrics`)).text();
    expect(metrics).toContain('dds_config_reload_failures_total 1');
    expect(metrics).toContain('dds_config_reloads_total 1');

    cm.publish('message: fourth\n');
    await d.p.waitFor(/configuration reloaded[\s\S]*configuration reloaded/);
    expect(await agentBody()).toBe('fourth\n');
  });

  it('flags keep precedence over the file on reload', async () => {
    const dir = tempDir('reload');
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'message: file\nname: file-name\n');
    const d = await demo(['--config', f, '--name', 'flag-name', '--reload-interval', '200ms']);
    writeFileSync(f, 'message: edited\nname: other\n');
    await d.p.waitFor('configuration reloaded');
    const r = await fetch(`${d.url}/`);
    expect(await r.text()).toBe('edited\n');
    expect(r.headers.get('x-served-by')).toBe('flag-name');
  });
});

describe('--workers', () => {
  it('serves from several processes, aggregates metrics, drains all on SIGTERM', async () => {
    const d = await demo(['--workers', '2']);
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        get(`${d.url}/echo`, { agent: false }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      pids.add((JSON.parse(body) as { pid: number }).pid);
    }
    expect(pids.size).toBe(2);
    expect(pids.has(d.p.child.pid!)).toBe(false);
    const metrics = await (await fetch(`${d.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/dds_build_info\{component="demo-app"[^}]*\} 2/);
    const slow = fetch(`${d.url}/slow?ms=800`).then((r) => r.status);
    await arrivedAt(d.url, '/slow');
    d.p.child.kill('SIGTERM');
    await d.p.waitFor('draining workers');
    expect((await fetch(`${d.adminUrl}/readyz`)).status).toBe(503);
    expect(await slow).toBe(200);
    expect(await d.p.exited).toBe(0);
  });
});
