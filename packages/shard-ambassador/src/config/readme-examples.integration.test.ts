import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bin, ROOT, run, selfSignedCert, tempDir } from '@dds/test-support';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Every example of the README is checked as printed: the nutcracker.yaml blocks pass -t, the
// pod's command line and the quick-start command lines are accepted. The only change made to a
// block is where the files it names live (the TLS example's certificates are made for the test).

const README = readFileSync(resolve(ROOT, 'packages/shard-ambassador/README.md'), 'utf8');
const blocks = (lang: string): string[] =>
  [...README.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);

const amb = (args: string[]) => run(process.execPath, [bin('shard-ambassador'), ...args]);
const dir = tempDir('readme');
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

/** The TLS example names /etc/redis-tls/{ca.crt,tls.crt,tls.key}: real files in a temp dir. */
function withTlsFiles(text: string): string {
  if (!text.includes('/etc/redis-tls/')) return text;
  const cert = selfSignedCert();
  const tls = tempDir('readme-tls');
  copyFileSync(cert.cert, join(tls, 'ca.crt'));
  copyFileSync(cert.cert, join(tls, 'tls.crt'));
  copyFileSync(cert.key, join(tls, 'tls.key'));
  return text.replaceAll('/etc/redis-tls/', `${tls}/`);
}

describe('README examples run as printed', () => {
  const yaml = blocks('yaml');
  const configs = yaml.filter((b) => !b.trimStart().startsWith('- name:'));
  const pod = yaml.find((b) => b.trimStart().startsWith('- name:'));

  it('every nutcracker.yaml example passes -t', async () => {
    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const [i, text] of configs.entries()) {
      const r = await amb(['-t', '-c', write(`example-${i}.yaml`, withTlsFiles(text))]);
      expect(r.stderr, text).toBe('');
      expect(r.code, text).toBe(0);
      expect(r.stdout).toMatch(/is valid/);
    }
  });

  it("the pod's command line is accepted with the README's nutcracker.yaml in /etc/config", async () => {
    expect(pod).toBeDefined();
    const container = (parse(pod!) as { command: string[]; ports: { containerPort: number }[] }[])[0]!;
    expect(container.command[0]).toBe('dds-shard-ambassador');
    const file = write('nutcracker.yaml', configs[0]!);
    const args = container.command.slice(1).map((a) => (a === '/etc/config/nutcracker.yaml' ? file : a));
    const r = await amb([...args, '--print-config']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // the probe's admin port is the one the process listens on
    expect(r.stdout).toMatch(new RegExp(`admin: 0\\.0\\.0\\.0:${container.ports[0]!.containerPort}`));
    expect(r.stdout).toMatch(/statsPort: 6222/);
  });

  it('the quick-start command lines are accepted', async () => {
    const lines = blocks('sh')
      .flatMap((b) => b.split('\n'))
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => l.startsWith('dds-shard-ambassador '));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const file = write('quick.yaml', configs[0]!);
    for (const line of lines) {
      const args = line
        .split(/\s+/)
        .slice(1)
        .map((a) => (a === '/etc/config/nutcracker.yaml' || a === 'nutcracker.yaml' ? file : a));
      const r = await amb(args.includes('-t') ? args : [...args, '--check-config']);
      expect(r.stderr, line).toBe('');
      expect(r.code, line).toBe(0);
    }
  });
});
