// Runs one documentation example inside test/docs/sandbox.sh: sets up what the example expects
// to find (files, the app, Redis, MariaDB, ...), then runs its commands exactly as printed and
// writes what happened to WORK/report.json. Plain JavaScript: it runs inside the sandbox's chroot
// with the repository's node, before and without any build step of the tests.
//
//   node test/docs/run-block.mjs WORK/plan.json
//
// A command that starts a dds component (or `docker run` of one) may serve: it counts as started
// once it logs "... started", and is stopped with SIGTERM (and must then exit 0) before the next
// such command starts or when the example ends. Any other command must exit 0 by itself.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { repo, work } = plan;
const report = { fixtures: [], steps: [], error: undefined };
const background = [];

const DOCKER_SHIM = `#!/bin/bash
source @REPO@/scripts/podman-env.sh
[[ "$1" == run ]] || exec podman "$@"
shift
args=("$@"); i=0; mounts=(); envs=()
while (( i < \${#args[@]} )); do
  a="\${args[i]}"
  case "$a" in
    -v|--volume) mounts+=("\${args[i+1]}"); i=$((i+2)) ;;
    -e|--env) envs+=("\${args[i+1]}"); i=$((i+2)) ;;
    -p|--publish|--name|--network|-u|--user|--userns|--entrypoint|-w|--workdir|--mount|--ulimit|--cap-add|--cap-drop|--security-opt|--tmpfs) i=$((i+2)) ;;
    -*) i=$((i+1)) ;;
    *) break ;;
  esac
done
image="\${args[i]}"
if podman image exists "$image" 2>/dev/null || podman image exists "localhost/$image" 2>/dev/null; then
  exec podman run --name "@NAME@-$$-$RANDOM" "$@"
fi
component="$(sed -E 's#^(.*/)?dds/([a-z-]+)(:.*)?$#\\2#' <<<"$image")"
echo "docker run: no image $image here; running packages/$component/dist/main.js with the same arguments" >&2
for m in "\${mounts[@]}"; do
  IFS=: read -r src dst _ <<<"$m"
  if [[ -d "$src" ]]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; touch "$dst"; fi
  mount --bind "$src" "$dst"
done
for e in "\${envs[@]}"; do export "$e"; done
exec node "@REPO@/packages/$component/dist/main.js" "\${args[@]:i+1}"
`;

/** Containers of `docker run` lines are named so; they are removed before the sandbox ends. */
const CONTAINERS = `dds-docs-${plan.id}`;

/**
 * Removes this example's containers while the sandbox (whose network namespaces they use) still
 * exists: one left behind would name a namespace podman could no longer join.
 */
function removeContainers() {
  const env = { ...process.env, CONTAINERS_CONF: join(repo, '.cache/podman/containers.conf') };
  const names = spawnSync(
    'podman',
    ['ps', '-a', '--filter', `name=^${CONTAINERS}-`, '--format', '{{.Names}}'],
    { env },
  )
    .stdout.toString()
    .split('\n')
    .filter(Boolean);
  for (const name of names) spawnSync('podman', ['rm', '-f', '-t', '0', name], { env, stdio: 'ignore' });
  if (names.length > 0) report.fixtures.push(`removed containers left running: ${names.join(' ')}`);
}

const STARTED = /"msg":"dds-[a-z-]+ [\d.]+ (primary )?started"/;
const SERVES = /(^|[\s|;&(])(dds-[a-z-]+|docker run|podman run)\s/;
const ONE_SHOT = /\s(--check-config|-t|--help|-h|--version|--print-config|--once)(\s|$)/;

function write(path, content, mode) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  if (mode !== undefined) chmodSync(path, mode);
}

function waitPort(port, host = '127.0.0.1', timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        if (Date.now() > until) reject(new Error(`${host}:${port} did not open`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function daemon(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  background.push({ name, child, output: () => out });
  return child;
}

// ---------------------------------------------------------------------------------------------
// fixtures: what the examples expect to find on the machine they run on

function openssl(args) {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, and a server certificate for every name the examples use (plus a client certificate). */
function certificates() {
  const d = join(work, 'pki');
  mkdirSync(d, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=dds docs CA',
    '-keyout',
    `${d}/ca.key`,
    '-out',
    `${d}/ca.crt`,
  ]);
  const sans = ['DNS:localhost', 'IP:127.0.0.1', ...plan.hosts.map(([h]) => `DNS:${h}`)].join(',');
  write(`${d}/server.ext`, `subjectAltName=${sans}\n`);
  openssl(['req', ...ec, '-subj', '/CN=localhost', '-keyout', `${d}/tls.key`, '-out', `${d}/tls.csr`]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${d}/tls.csr`,
    '-CA',
    `${d}/ca.crt`,
    '-CAkey',
    `${d}/ca.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${d}/server.ext`,
    '-out',
    `${d}/tls.crt`,
  ]);
  write(`${d}/client.ext`, 'subjectAltName=URI:spiffe://prod/ns/shop/sa/checkout\n');
  openssl(['req', ...ec, '-subj', '/CN=checkout', '-keyout', `${d}/client.key`, '-out', `${d}/client.csr`]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${d}/client.csr`,
    '-CA',
    `${d}/ca.crt`,
    '-CAkey',
    `${d}/ca.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${d}/client.ext`,
    '-out',
    `${d}/client.crt`,
  ]);
  return d;
}

/** Files and directories the examples name, with the contents a real deployment would have. */
function files() {
  const pki = certificates();
  const pem = (name) => readFileSync(join(pki, name));
  // openssl writes keys 0600, as for a user following the docs
  const tls = (dir, ca = true) => {
    write(join(dir, 'tls.crt'), pem('tls.crt'));
    write(join(dir, 'tls.key'), pem('tls.key'), 0o600);
    if (ca) write(join(dir, 'ca.crt'), pem('ca.crt'));
  };
  tls(repo, false);
  tls(join(repo, 'certs'), false);
  tls('/etc/tls');
  tls('/tls');
  tls('/etc/tls-legacy-domain', false);
  tls('/etc/to-app', false);
  write('/etc/app-ca/ca.crt', pem('ca.crt'));
  write('/etc/client-ca/ca.crt', pem('ca.crt'));
  tls('/etc/redis-tls');
  write('/etc/redis-auth/password', 'secret\n', 0o600);
  for (const f of ['client.crt', 'client.key', 'ca.crt']) copyFileSync(join(pki, f), join(repo, f));
  write(join(repo, 'override.secret'), 'a-secret-of-at-least-32-bytes-for-hmac-0123456789\n', 0o600);
  write('/etc/dds/admin/token', 'an-admin-token-0123456789abcdef\n', 0o600);
  for (const f of [
    '/secrets/mysql',
    '/secrets/pg',
    '/secrets/password',
    '/var/run/secrets/redis/password',
    '/var/run/secrets/mysql/password',
  ])
    write(f, 'secret\n', 0o600);
  write('/etc/dds/otlp-headers', 'Authorization: Bearer an-otlp-token\n', 0o600);
  write(
    '/etc/dds/json.yml',
    'modules:\n  default:\n    metrics:\n      - name: app_requests_total\n        path: "{.requests}"\n        valuetype: counter\n',
  );
  const nutcracker = [
    'redis:',
    '  listen: 127.0.0.1:6379',
    '  hash: fnv1a_64',
    '  distribution: ketama',
    '  redis: true',
    '  servers:',
    '    - 10.0.0.1:6379:1 shard-0',
    '    - 10.0.0.2:6379:1 shard-1',
    '    - 10.0.0.3:6379:1 shard-2',
    '',
  ].join('\n');
  write(join(repo, 'nutcracker.yaml'), nutcracker);
  write('/etc/config/nutcracker.yaml', nutcracker);
  write(
    '/etc/ratelimit/config/edge.yaml',
    'domain: edge\ndescriptors:\n  - key: remote_address\n    rate_limit: { unit: second, requests_per_unit: 100 }\n',
  );
  write(
    '/etc/dds/policies.yaml',
    'policies:\n  - name: per-ip\n    key: ip\n    limits: [{ rate: 100/s, burst: 50 }]\n',
  );
  write(
    '/etc/health/checks.yaml',
    'checks:\n  - name: app\n    type: http\n    url: http://127.0.0.1:8080/\n',
  );
  // logs in the formats the examples name
  const fx = (name) => readFileSync(join(repo, 'packages/log-adapter/src/__fixtures__', name));
  write('/var/log/nginx/access.log', fx('nginx-combined.log'));
  write('/var/log/nginx/error.log', fx('nginx-error.log'));
  for (const dir of ['/logs', '/var/log/app', '/logs/app', '/logs/nginx']) {
    write(join(dir, 'app.log'), fx('json-app.log'));
    write(join(dir, 'app.err'), fx('java-stacktrace.log'));
  }
  write('/var/log/pods/shop_web-0_0000/web/0.log', fx('cri.log'));
  mkdirSync('/var/log/containers', { recursive: true });
  symlinkSync('/var/log/pods/shop_web-0_0000/web/0.log', '/var/log/containers/web-0_shop_web-0000.log');
  mkdirSync('/var/lib/dds-log-adapter', { recursive: true });
  mkdirSync('/run/app', { recursive: true });
  mkdirSync('/data', { recursive: true });
  // `my-app` of the log adapter's examples: an app writing a few log lines and exiting
  write(
    join(work, 'bin/my-app'),
    '#!/bin/sh\necho \'{"level":"info","msg":"listening","port":8080}\'\necho "plain text line"\necho \'{"level":"error","msg":"boom"}\' >&2\n',
    0o755,
  );
  // curl also reports the HTTP status of each transfer (on stderr), so a failing request shows
  write(
    join(work, 'bin/curl'),
    '#!/bin/sh\nfor a in "$@"; do case "$a" in -w|--write-out) exec /usr/bin/curl --max-time 30 "$@";; esac; done\nexec /usr/bin/curl --max-time 30 -w \'%{stderr}HTTP_STATUS=%{http_code}\\n\' "$@"\n',
    0o755,
  );
  // docker: podman, which takes the same arguments, with the settings this machine needs
  // (scripts/podman-env.sh); the container is named, so the test can remove it whatever happens.
  // Where the image was not built, the same line runs the component's built binary instead: its
  // -v mounts bound in place (the sandbox is a throw-away mount namespace), its -e variables set.
  write(
    join(work, 'bin/docker'),
    DOCKER_SHIM.replaceAll('@REPO@', repo).replaceAll('@NAME@', CONTAINERS),
    0o755,
  );
  report.fixtures.push('files');
}

async function app(listen) {
  daemon(`app ${listen}`, process.execPath, [
    join(repo, 'packages/demo-app/dist/main.js'),
    '--listen',
    listen,
    '--admin',
    'off',
    '--name',
    `app-${listen}`,
  ]);
  if (listen.startsWith('/')) {
    for (let i = 0; i < 600; i++) {
      try {
        readFileSync(listen);
      } catch (e) {
        if (e.code === 'ENXIO' || e.code === 'EOPNOTSUPP') break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } else {
    const i = listen.lastIndexOf(':');
    await waitPort(Number(listen.slice(i + 1)), listen.slice(0, i));
  }
  report.fixtures.push(`app ${listen}`);
}

async function redis(host, port, password) {
  daemon(`redis ${host}:${port}`, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    host,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--dir',
    work,
    ...(password ? ['--requirepass', password] : []),
  ]);
  await waitPort(port, host);
  report.fixtures.push(`redis ${host}:${port}${password ? ' (password)' : ''}`);
}

/** Redis over TLS only, with an ACL user `ratelimiter` (password "secret"). */
async function redisTls(port) {
  const pki = join(work, 'pki');
  const conf = join(work, 'redis-tls.conf');
  write(conf, 'user default on nopass ~* &* +@all\nuser ratelimiter on >secret ~* &* +@all\n');
  daemon(`redis tls :${port}`, 'redis-server', [
    conf,
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--tls-cert-file',
    `${pki}/tls.crt`,
    '--tls-key-file',
    `${pki}/tls.key`,
    '--tls-ca-cert-file',
    `${pki}/ca.crt`,
    '--tls-auth-clients',
    'no',
    '--save',
    '',
    '--protected-mode',
    'no',
    '--dir',
    work,
  ]);
  await waitPort(port);
  report.fixtures.push(`redis tls 127.0.0.1:${port}`);
}

/** A Redis Cluster of one primary per address, slots spread over all. */
async function redisCluster(hosts) {
  for (const host of hosts) {
    daemon(`redis cluster ${host}`, 'redis-server', [
      '--port',
      '6379',
      '--bind',
      host,
      // without it a node never tells the others where it is (they all listen on port 6379)
      '--cluster-announce-ip',
      host,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(work, `nodes-${host}.conf`),
      '--save',
      '',
      '--protected-mode',
      'no',
      '--dir',
      work,
    ]);
    await waitPort(6379, host);
  }
  execFileSync('redis-cli', ['--cluster', 'create', ...hosts.map((h) => `${h}:6379`), '--cluster-yes'], {
    stdio: 'ignore',
  });
  for (let i = 0; ; i++) {
    const info = execFileSync('redis-cli', ['-h', hosts[0], 'cluster', 'info']).toString();
    if (info.includes('cluster_state:ok')) break;
    if (i > 600) throw new Error(`cluster not ok: ${info}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  report.fixtures.push(`redis cluster ${hosts.join(',')}`);
}

/** Sentinels watching the primary `mymaster` on 127.0.0.1:6379. */
async function sentinels(hosts) {
  for (const host of hosts) {
    const conf = join(work, `sentinel-${host}.conf`);
    write(conf, `port 26379\nbind ${host}\nprotected-mode no\nsentinel monitor mymaster 127.0.0.1 6379 1\n`);
    daemon(`sentinel ${host}`, 'redis-server', [conf, '--sentinel']);
    await waitPort(26379, host);
  }
  report.fixtures.push(`sentinels ${hosts.join(',')}`);
}

async function memcached(host, port) {
  daemon(`memcached ${host}:${port}`, 'memcached', [
    '-l',
    host,
    '-p',
    String(port),
    '-U',
    '0',
    '-u',
    'root',
    '-m',
    '16',
  ]);
  await waitPort(port, host);
  report.fixtures.push(`memcached ${host}:${port}`);
}

/** MariaDB on :3306 from a prepared datadir (users app, exporter and dds; password "secret"). */
async function mariadb(datadir) {
  const run = join(work, 'mariadb');
  mkdirSync(run, { recursive: true });
  daemon('mariadb', 'mariadbd', [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--socket=${run}/mysqld.sock`,
    '--port=3306',
    '--bind-address=127.0.0.1',
    '--user=root',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    `--pid-file=${run}/mysqld.pid`,
  ]);
  await waitPort(3306);
  report.fixtures.push('mariadb 127.0.0.1:3306');
}

async function tcp(port) {
  const server = createServer((s) => s.end());
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  report.fixtures.push(`tcp 127.0.0.1:${port}`);
}

// ---------------------------------------------------------------------------------------------
// the example's commands

const tail = (s) => (s.length > 4000 ? `...${s.slice(-4000)}` : s);

function spawnShell(cmd) {
  // `trap : TERM`: bash waits for the command and returns its status when the process group is
  // told to stop (a plain bash would die of the signal itself)
  const child = spawn('bash', ['-c', `trap : TERM\n${cmd}`], {
    cwd: repo,
    env: plan.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = { stdout: '', stderr: '' };
  const waiters = new Set();
  child.stdout.on('data', (d) => {
    io.stdout += d;
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d) => {
    io.stderr += d;
    for (const w of waiters) w();
  });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  return { child, io, waiters, exited };
}

function race(p, ms) {
  return Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), ms))]);
}

const serving = [];

async function stopServers() {
  for (const s of serving.splice(0)) {
    try {
      process.kill(-s.proc.child.pid, 'SIGTERM');
    } catch {}
    const code = await race(s.proc.exited, 60_000);
    if (code === 'timeout') process.kill(-s.proc.child.pid, 'SIGKILL');
    s.step.stopCode = code === 'timeout' ? 'did not exit within 60 s of SIGTERM' : code;
    s.step.stdout = tail(s.proc.io.stdout);
    s.step.stderr = tail(s.proc.io.stderr);
  }
}

/** Starts a command that may serve; it counts as serving once it logs that it started. */
async function runServer(cmd) {
  const record = { cmd, serves: false };
  report.steps.push(record);
  await stopServers();
  const proc = spawnShell(cmd);
  const started = new Promise((resolve) => {
    const check = () => {
      if (STARTED.test(proc.io.stdout + proc.io.stderr)) {
        proc.waiters.delete(check);
        resolve('started');
      }
    };
    proc.waiters.add(check);
  });
  const first = await race(Promise.race([started, proc.exited.then((code) => ({ code }))]), 90_000);
  if (first === 'started') {
    record.serves = true;
    serving.push({ step: record, proc });
    record.ready = await readiness(proc.io.stdout + proc.io.stderr);
    return;
  }
  if (first === 'timeout') {
    process.kill(-proc.child.pid, 'SIGKILL');
    record.code = 'neither started nor exited within 90 s';
  } else record.code = first.code;
  record.stdout = tail(proc.io.stdout);
  record.stderr = tail(proc.io.stderr);
}

/**
 * Waits, as a reader (or the kubelet) would, until the component says it is ready on its admin
 * port (named in its "started" line), for at most 30 s: a health check's first result, a pool's
 * first connection. Some examples never get ready (an upstream the example does not have): the
 * commands after it run anyway, and show it.
 */
async function readiness(log) {
  const line = log.split('\n').find((l) => STARTED.test(l));
  const admin = line && /"admin":"([^"]+)"/.exec(line)?.[1];
  if (!admin || admin === 'off') return undefined;
  const port = admin.slice(admin.lastIndexOf(':') + 1);
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Runs consecutive commands in one shell, as a reader types them into one terminal (a variable
 * one sets, the next uses), with each one's exit status and output told apart by markers.
 */
async function runSession(cmds) {
  const records = cmds.map((cmd) => ({ cmd, serves: false }));
  report.steps.push(...records);
  const script = cmds
    .map((c, i) => `${c}\n__s=$?; printf '\\n__DDS_END_${i}_%d\\n' "$__s"; printf '\\n__DDS_END_${i}\\n' >&2`)
    .join('\n');
  const proc = spawnShell(script);
  const code = await race(proc.exited, 90_000 * cmds.length);
  if (code === 'timeout') process.kill(-proc.child.pid, 'SIGKILL');
  const outs = proc.io.stdout.split(/\n__DDS_END_\d+_\d+\n/);
  const errs = proc.io.stderr.split(/\n__DDS_END_\d+\n/);
  const codes = [...proc.io.stdout.matchAll(/\n__DDS_END_(\d+)_(\d+)\n/g)].map((m) => Number(m[2]));
  records.forEach((r, i) => {
    r.code =
      i < codes.length
        ? codes[i]
        : code === 'timeout'
          ? 'did not finish in time'
          : `the shell ended (${code})`;
    r.stdout = tail(outs[i] ?? '');
    r.stderr = tail(errs[i] ?? '');
  });
}

async function runSteps(steps) {
  const session = [];
  const flush = async () => {
    if (session.length > 0) await runSession(session.splice(0));
  };
  for (const step of steps) {
    if (step.write) {
      await flush();
      write(step.write.path, step.write.content);
    } else if (SERVES.test(step.cmd) && !ONE_SHOT.test(step.cmd)) {
      await flush();
      await runServer(step.cmd);
    } else session.push(step.cmd);
  }
  await flush();
}

async function main() {
  write(
    '/etc/hosts',
    `127.0.0.1 localhost\n::1 localhost\n${plan.hosts.map(([h, ip]) => `${ip} ${h}`).join('\n')}\n`,
  );
  files();
  const f = plan.fixtures;
  for (const listen of f.apps ?? []) await app(listen);
  for (const r of f.redis ?? []) await redis(r.host, r.port, r.password);
  for (const m of f.memcached ?? []) await memcached(m.host, m.port);
  for (const port of f.tcp ?? []) await tcp(port);
  if (f.redisTls) await redisTls(f.redisTls);
  if (f.redisCluster) await redisCluster(f.redisCluster);
  if (f.sentinels) await sentinels(f.sentinels);
  if (f.mariadb) await mariadb(f.mariadb);
  await runSteps(plan.steps);
  await stopServers();
}

try {
  await main();
} catch (err) {
  report.error = String(err?.stack ?? err);
} finally {
  await stopServers().catch(() => {});
  removeContainers();
}
for (const b of background)
  if (b.child.exitCode !== null) report.fixtures.push(`${b.name} exited: ${tail(b.output())}`);
writeFileSync(join(work, 'report.json'), JSON.stringify(report, null, 2));
process.exit(0);
