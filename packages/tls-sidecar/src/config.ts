import { type AccessLogConfig, accessLogSettings } from '@dds/core/access-log/access-log-config';
import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { zAddressOrOff } from '@dds/core/config/schemas';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';
import { type HttpProxyConfig, httpProxySettings } from '@dds/core/http/proxy-config';
import { parseAddress } from '@dds/core/net/host-port';
import { INTERMEDIATE_CIPHERS } from '@dds/core/tls/secure-context';
import { MODE_UPSTREAMS, parseUpstream } from './upstream-url.js';

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const TLS = 'TLS';
const MTLS = 'Peer certificates (mTLS)';
const UPSTREAM_TLS = 'Upstream TLS (server mode, --upstream https://)';
const TCP = 'TCP (--upstream tcp:// and tls://)';

export const settings = {
  mode: setting.string({
    help: 'server: TLS in, the app behind; client: plain in from the app, TLS out to --upstream tls:// or https://',
    metavar: 'MODE',
    default: 'server',
    schema: z.enum(['server', 'client']),
  }),
  listen: setting.address({
    help: 'listen address: TLS in server mode (HTTP/1.1 and HTTP/2 by ALPN, or TCP), plain HTTP or TCP in client mode',
    default: '0.0.0.0:8443',
  }),
  upstream: setting.string({
    help: 'server mode: http://H:P, unix:/path.sock, h2c://H:P (HTTP/2, gRPC), https://H:P (re-encrypted), tcp://H:P (bytes) or internal:COMPONENT (dds-pod: the next component in the same process); client mode: tls://H:P (bytes) or https://H:P (HTTP)',
    metavar: 'URL',
    default: 'http://127.0.0.1:8080',
    schema: z.string().check(
      z.superRefine((s, ctx) => {
        const u = parseUpstream(s);
        if (typeof u === 'string') ctx.addIssue({ code: 'custom', message: u });
      }),
    ),
  }),
  cert: setting.string({
    help: 'certificate chain file (PEM, leaf first)',
    metavar: 'FILE',
    default: '',
    group: TLS,
  }),
  key: setting.string({
    help: 'private key file (PEM)',
    metavar: 'FILE',
    default: '',
    group: TLS,
  }),
  tlsDir: setting.string({
    help: 'a mounted Kubernetes TLS Secret: tls.crt, tls.key and optional ca.crt (instead of --cert/--key)',
    metavar: 'DIR',
    default: '',
    group: TLS,
  }),
  sniDirs: setting.list({
    help: 'more TLS Secret dirs, each served for the DNS names (wildcards too) in its certificate (SNI)',
    metavar: 'DIR,...',
    default: [],
    group: TLS,
    schema: z.array(z.string().check(z.minLength(1))),
  }),
  minTlsVersion: setting.string({
    help: 'lowest TLS version accepted: TLSv1.2 or TLSv1.3',
    metavar: 'VERSION',
    default: 'TLSv1.2',
    group: TLS,
    schema: z.enum(['TLSv1.2', 'TLSv1.3']),
  }),
  ciphers: setting.string({
    help: 'OpenSSL cipher list in server preference order; TLS 1.3 suites are the TLS_* names (the default is Mozilla intermediate: AEAD only)',
    metavar: 'LIST',
    default: INTERMEDIATE_CIPHERS,
    defaultDoc: 'Mozilla intermediate (`--help` lists it)',
    group: TLS,
    schema: z.string().check(z.minLength(1)),
  }),
  handshakeTimeout: setting.duration({
    help: 'time a client has to complete the TLS handshake',
    default: 10_000,
    group: TLS,
  }),
  sessionTickets: setting.boolean({
    help: 'issue TLS session tickets so returning clients resume without a full handshake (keys per process, kept across certificate reloads)',
    default: true,
    group: TLS,
  }),
  maxConnections: setting.number({
    help: 'most client connections at once; more are refused (handshake flood guard)',
    default: 10_000,
    group: TLS,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  hsts: setting.string({
    help: 'Strict-Transport-Security value added to responses, e.g. "max-age=31536000" (off when empty)',
    metavar: 'VALUE',
    default: '',
    schema: z.string().check(z.refine((s) => !/[\r\n]/.test(s), { message: 'must be one line' })),
  }),
  redirectListen: setting.string({
    help: 'plain-HTTP listener that only answers 308 to https:// (e.g. 0.0.0.0:8081), or off',
    metavar: 'HOST:PORT',
    default: 'off',
    schema: zAddressOrOff,
  }),
  redirectPort: setting.number({
    help: 'HTTPS port written into redirects (0: the --listen port; 443 is left out of the URL)',
    default: 0,
    schema: z.number().check(z.int(), z.minimum(0), z.maximum(65535)),
  }),
  readyUpstream: setting.boolean({
    help: 'report not ready while the upstream refuses connections',
    default: false,
  }),
  upstreamCheckInterval: setting.duration({
    help: 'how often --ready-upstream probes the upstream',
    default: 5000,
  }),
  ca: setting.string({
    help: 'client mode: CA bundle the server certificate must chain to (default with --tls-dir: its ca.crt; else the system roots); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: MTLS,
  }),
  clientAuth: setting.string({
    help: 'none | optional (verify if sent) | require (verify, refuse handshakes without one)',
    metavar: 'MODE',
    default: 'none',
    group: MTLS,
    schema: z.enum(['none', 'optional', 'require']),
  }),
  clientCa: setting.string({
    help: 'CA bundle that signs client certificates (default with --tls-dir: its ca.crt); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: MTLS,
  }),
  allowCn: setting.list({
    help: 'accept only peers with one of these subject common names (server mode: clients; client mode: the server)',
    metavar: 'CN,...',
    default: [],
    group: MTLS,
    schema: z.array(z.string().check(z.minLength(1))),
  }),
  allowSan: setting.list({
    help: 'accept only peers with one of these SANs: DNS name, URI such as spiffe://..., IP, email (server mode: clients; client mode: the server, instead of the host-name check)',
    metavar: 'SAN,...',
    default: [],
    group: MTLS,
    schema: z.array(z.string().check(z.minLength(1))),
  }),
  clientCertHeader: setting.boolean({
    help: 'send the verified client certificate upstream as RFC 9440 Client-Cert',
    default: true,
    group: MTLS,
  }),
  clientCertChainHeader: setting.boolean({
    help: 'also send RFC 9440 Client-Cert-Chain (intermediates of the verified chain, root left out)',
    default: false,
    group: MTLS,
  }),
  xfcc: setting.boolean({
    help: "also send Envoy's X-Forwarded-Client-Cert (Hash, Subject, URI, DNS)",
    default: false,
    group: MTLS,
  }),
  upstreamCa: setting.string({
    help: 'CA bundle the app certificate must chain to (default: the system roots); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: UPSTREAM_TLS,
  }),
  upstreamCert: setting.string({
    help: 'certificate presented to the app (mTLS to the upstream); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: UPSTREAM_TLS,
  }),
  upstreamKey: setting.string({
    help: 'private key of --upstream-cert',
    metavar: 'FILE',
    default: '',
    group: UPSTREAM_TLS,
  }),
  upstreamServerName: setting.string({
    help: 'SNI and the name the upstream certificate is checked against (default: the --upstream host); client mode too',
    metavar: 'NAME',
    default: '',
    group: UPSTREAM_TLS,
  }),
  upstreamAllowSan: setting.list({
    help: 'accept only app certificates with one of these SANs (instead of the host-name check)',
    metavar: 'SAN,...',
    default: [],
    group: UPSTREAM_TLS,
    schema: z.array(z.string().check(z.minLength(1))),
  }),
  proxyProtocol: setting.string({
    help: 'server mode with tcp://: send a PROXY header first: off, v1 (text) or v2 (binary, with TLS and client identity TLVs)',
    metavar: 'VERSION',
    default: 'off',
    group: TCP,
    schema: z.enum(['off', 'v1', 'v2']),
  }),
  tcpIdleTimeout: setting.duration({
    help: 'close a TCP connection after this long without a byte either way; 0 none',
    default: 0,
    group: TCP,
  }),
  ...httpProxySettings,
  ...accessLogSettings,
};

export const flags = flagsOf(settings);

export const schema = configSchema(settings).check(
  z.superRefine((c, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const up = parseUpstream(c.upstream);
    if (typeof up === 'string') return; // reported on the field
    const kinds: readonly string[] = MODE_UPSTREAMS[c.mode];
    if (!kinds.includes(up.kind))
      issue(
        'upstream',
        `--mode ${c.mode} takes ${kinds.map((k) => (k === 'http' ? 'http:// or unix:' : `${k}://`)).join(', ')}`,
      );
    if (up.internal !== undefined && c.readyUpstream)
      issue(
        'readyUpstream',
        'an internal: upstream runs in the same process: there is no connection to probe',
      );
    if ((up.kind === 'tcp' || up.kind === 'tls') && c.accessLog !== 'off')
      issue('accessLog', 'access logs are written per HTTP request; the TCP modes write none');
    if (c.tlsDir && (c.cert || c.key)) issue('tlsDir', 'give either --tls-dir or --cert/--key, not both');
    else if (c.mode === 'server' && !c.tlsDir && !(c.cert && c.key))
      issue(c.cert ? 'key' : 'cert', 'a certificate and key are required (--cert and --key, or --tls-dir)');
    else if (c.mode === 'client' && Boolean(c.cert) !== Boolean(c.key))
      issue(c.cert ? 'key' : 'cert', 'the client certificate needs both --cert and --key');
    if (c.mode === 'client') {
      // whoever reaches a client-mode port speaks to the upstream as this pod: loopback only
      const at = parseAddress(c.listen);
      if (typeof at !== 'string' && at.kind === 'tcp' && !isLoopback(at.host))
        issue(
          'listen',
          'client mode takes plain text and presents the pod certificate for whoever connects: listen on loopback (127.0.0.1:PORT, [::1]:PORT) or a unix socket',
        );
      const serverOnly: [keyof typeof c, string, boolean][] = [
        ['clientAuth', '--client-auth', c.clientAuth !== 'none'],
        ['clientCa', '--client-ca', c.clientCa !== ''],
        ['sniDirs', '--sni-dirs', c.sniDirs.length > 0],
        ['redirectListen', '--redirect-listen', c.redirectListen !== 'off'],
        ['hsts', '--hsts', c.hsts !== ''],
        ['proxyProtocol', '--proxy-protocol', c.proxyProtocol !== 'off'],
        ['upstreamCa', '--upstream-ca (client mode verifies the server with --ca)', c.upstreamCa !== ''],
        ['upstreamCert', '--upstream-cert (client mode presents --cert/--key)', c.upstreamCert !== ''],
        ['upstreamKey', '--upstream-key (client mode presents --cert/--key)', c.upstreamKey !== ''],
        [
          'upstreamAllowSan',
          '--upstream-allow-san (client mode uses --allow-san)',
          c.upstreamAllowSan.length > 0,
        ],
      ];
      for (const [field, flag, set] of serverOnly) if (set) issue(field, `${flag} is for --mode server`);
      return;
    }
    if (c.ca) issue('ca', '--ca is for --mode client; client certificates are verified against --client-ca');
    if (c.clientAuth !== 'none' && !c.clientCa && !c.tlsDir)
      issue('clientCa', `--client-auth ${c.clientAuth} needs --client-ca (or --tls-dir with ca.crt)`);
    if (c.clientAuth === 'none' && (c.allowCn.length || c.allowSan.length))
      issue('clientAuth', '--allow-cn/--allow-san need --client-auth optional or require');
    if (up.kind !== 'https') {
      for (const [field, set] of [
        ['upstreamCa', c.upstreamCa !== ''],
        ['upstreamCert', c.upstreamCert !== ''],
        ['upstreamKey', c.upstreamKey !== ''],
        ['upstreamServerName', c.upstreamServerName !== ''],
        ['upstreamAllowSan', c.upstreamAllowSan.length > 0],
      ] as const)
        if (set) issue(field, 'upstream TLS settings need --upstream https://');
    } else if (Boolean(c.upstreamCert) !== Boolean(c.upstreamKey))
      issue(c.upstreamCert ? 'upstreamKey' : 'upstreamCert', 'give both --upstream-cert and --upstream-key');
    if (c.proxyProtocol !== 'off' && up.kind !== 'tcp')
      issue('proxyProtocol', '--proxy-protocol needs --upstream tcp://');
  }),
);

export type SidecarConfig = z.infer<typeof schema> & CommonConfig & HttpProxyConfig & AccessLogConfig;
