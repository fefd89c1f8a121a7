// Who may change what a user sees: variant overrides (off by default, or signed with a secret the
// splitter reads from a file) and the guard reset (an admin action that needs a token from a file).
// Real splitter processes in front of real demo-app backends; signatures made with openssl exactly
// as the README prints them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, startComponent, tempDir } from '@dds/test-support';
import {
  demoApp,
  expectedVariant,
  get,
  metric,
  quickSplitter,
  type Running,
  stopAll,
} from '@dds/test-support/experiment-splitter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

afterAll(stopAll);

const dir = tempDir('splitter-sec');
const secretFile = join(dir, 'override.secret');
const SECRET_1 = 'first-override-secret-0123456789abcdef';
const SECRET_2 = 'second-override-secret-0123456789abcdef';

/** The README's signing one-liner, run by a shell with openssl. */
async function sign(experiment: string, variant: string, file = secretFile): Promise<string> {
  const r = await run('sh', [
    '-c',
    `printf '%s' '${experiment}/${variant}' | openssl dgst -sha256 -hmac "$(cat ${file})" -binary | openssl base64 -A | tr '+/' '-_' | tr -d '='`,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

let control: Running;
let exp: Running;
beforeAll(async () => {
  [control, exp] = await Promise.all([demoApp('control'), demoApp('experiment')]);
});

/** A user the hash puts on control at 10%, so only an override sends it to the experiment. */
const controlUser = Array.from({ length: 200 }, (_, i) => `sec${i}`).find(
  (u) => expectedVariant(u, 'checkout', 10) === 'control',
)!;
const cookie = `dds_uid=${controlUser}`;

describe('variant overrides', () => {
  it('are off by default, documented in --help with the secret and admin token flags', async () => {
    const help = await run(process.execPath, ['packages/experiment-splitter/dist/main.js', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--override-header NAME .*\(default off\) \[env DDS_OVERRIDE_HEADER\]/);
    expect(help.stdout).toMatch(/--override-cookie NAME .*\(default off\) \[env DDS_OVERRIDE_COOKIE\]/);
    expect(help.stdout).toMatch(/--override-secret-file FILE +HMAC key .*VARIANT:SIGNATURE/);
    expect(help.stdout).toMatch(/--admin-token-file FILE .*Authorization: Bearer TOKEN/);
  });

  it('with a secret: only a signature for this experiment and variant forces it', async () => {
    writeFileSync(secretFile, `${SECRET_1}\n`);
    const s = await quickSplitter(control, exp, [
      '--experiment-name',
      'checkout',
      '--percent',
      '10',
      '--override-header',
      'x-dds-force-variant',
      '--override-cookie',
      'dds_force_variant',
      '--override-secret-file',
      secretFile,
    ]);
    expect(s.proc.stdout()).not.toContain('variant overrides are not signed');
    const served = async (value: string, via: 'header' | 'cookie' = 'header') =>
      (
        await get(
          `${s.url}/`,
          via === 'header'
            ? { cookie, 'x-dds-force-variant': value }
            : { cookie: `${cookie}; dds_force_variant=${value}` },
        )
      ).servedBy;

    const good = await sign('checkout', 'experiment');
    expect(good).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await served(`experiment:${good}`)).toBe('experiment');
    expect(await served(`experiment:${good}`, 'cookie')).toBe('experiment');
    expect(await served(`experiment:${good}=`)).toBe('experiment'); // padding is optional
    // refused: the bare name, another variant's signature, another experiment's, a cut one, junk
    const refused = [
      'experiment',
      `experiment:${await sign('checkout', 'control')}`,
      `experiment:${await sign('search', 'experiment')}`,
      `experiment:${good.slice(0, 40)}`,
      `experiment:${'A'.repeat(43)}`,
      `nope:${good}`,
      ':',
    ];
    for (const v of refused) expect(await served(v), v).toBe('control');
    expect(await metric(s.admin, /^dds_experiment_overrides_total /)).toBe(3);
    expect(await metric(s.admin, /^dds_experiment_overrides_refused_total /)).toBe(refused.length);

    // a rotated secret applies without a restart; the old signatures stop working
    writeFileSync(secretFile, SECRET_2);
    await s.proc.waitFor('configuration reloaded');
    expect(await served(`experiment:${good}`)).toBe('control');
    expect(await served(`experiment:${await sign('checkout', 'experiment')}`)).toBe('experiment');

    // a secret too short to be safe is rejected on reload; the one in effect keeps serving
    const current = await sign('checkout', 'experiment');
    writeFileSync(secretFile, 'short');
    await s.proc.waitFor(
      /overrideSecretFile: .*holds 5 characters; at least 32.*configuration rejected; the previous one keeps serving/,
    );
    expect(await served(`experiment:${current}`)).toBe('experiment');
    await s.proc.kill();
  });

  it('a missing or weak secret file stops the start with exit 2 naming the field', async () => {
    const missing = await run(process.execPath, [
      'packages/experiment-splitter/dist/main.js',
      '--control',
      control.url,
      '--experiment',
      exp.url,
      '--override-secret-file',
      join(dir, 'absent'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /overrideSecretFile: cannot read .*absent: ENOENT .*\[from flag --override-secret-file\]/,
    );
    const weak = join(dir, 'weak');
    writeFileSync(weak, 'only-twenty-chars-xx');
    const short = await run(process.execPath, [
      'packages/experiment-splitter/dist/main.js',
      '--check-config',
      '--control',
      control.url,
      '--experiment',
      exp.url,
      '--override-secret-file',
      weak,
    ]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/overrideSecretFile: .*holds 20 characters; at least 32 are needed/);
  });
});

describe('the guard reset (an admin action)', () => {
  const TOKEN = 'reset-token-abcdef0123456789';

  it('is refused (403) while no --admin-token-file is set; reads stay open', async () => {
    const s = await quickSplitter(control, exp, ['--experiment-name', 'checkout']);
    const r = await fetch(`${s.admin}/experiments/checkout/reset`, { method: 'POST' });
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ error: 'admin actions are off: start with --admin-token-file FILE' });
    expect((await fetch(`${s.admin}/experiments`)).status).toBe(200);
    expect((await fetch(`${s.admin}/metrics`)).status).toBe(200);
    expect((await fetch(`${s.admin}/readyz`)).status).toBe(200);
    await s.proc.kill();
  });

  it('needs the token from the file as a Bearer credential; the token never shows in /config', async () => {
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const s = await quickSplitter(control, exp, [
      '--experiment-name',
      'checkout',
      '--admin-token-file',
      tokenFile,
    ]);
    const reset = (headers: Record<string, string>) =>
      fetch(`${s.admin}/experiments/checkout/reset`, { method: 'POST', headers });
    const none = await reset({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="dds-admin"');
    expect((await reset({ authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await reset({ authorization: `Basic ${TOKEN}` })).status).toBe(401);
    const ok = await reset({ authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ reset: 'checkout' });
    await s.proc.waitFor('guard reset: variants back at their configured weights');
    const config = await (await fetch(`${s.admin}/config`)).text();
    expect(config).toContain(tokenFile);
    expect(config).not.toContain(TOKEN);
    // an unknown route is still a 404, whoever asks
    expect((await fetch(`${s.admin}/nothing`, { method: 'POST' })).status).toBe(404);
    await s.proc.kill();
  });

  it('a missing token file stops the start with exit 2 naming the field', async () => {
    const p = startComponent('experiment-splitter', [
      '--control',
      control.url,
      '--experiment',
      exp.url,
      '--admin-token-file',
      join(dir, 'no-token'),
    ]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/adminTokenFile: cannot read .*no-token: ENOENT/);
  });
});
