import {
  type AccessLogConfig,
  accessLogFlags,
  accessLogSchema,
} from '@dds/core/access-log/access-log-config';
import { type CommonConfig, commonSchema } from '@dds/core/config/common-flags';
import type { FlagSpec } from '@dds/core/config/flags';
import { zAddress, zAddressOrOff, zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { type HttpProxyConfig, httpProxyFlags, httpProxySchema } from '@dds/core/http/proxy-config';
import { parseAddress } from '@dds/core/net/host-port';
import { INTERMEDIATE_CIPHERS } from '@dds/core/tls/secure-context';
import { MODE_UPSTREAMS, parseUpstream } from './upstream-url.js';

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const TLS = 'TLS';
const MTLS = 'Peer certificates (mTLS)';
const UPSTREAM_TLS = 'Upstream TLS (server mode, --upstream https://)';
const TCP = 'TCP (--upstream tcp:// and tls://)';

export const flags: FlagSpec[] = [
  {
    name: 'mode',
    type: 'string',
    help: 'server: TLS in, the app behind; client: plain in from the app, TLS out to --upstream tls:// or https://',
    metavar: 'MODE',
    default: 'server',
  },
  {
    name: 'listen',
    type: 'string',
    help: 'listen address: TLS in server mode (HTTP/1.1 and HTTP/2 by ALPN, or TCP), plain HTTP or TCP in client mode',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:8443',
  },
  {
    name: 'upstream',
    type: 'string',
    help: 'server mode: http://H:P, unix:/path.sock, h2c://H:P (HTTP/2, gRPC), https://H:P (re-encrypted) or tcp://H:P (bytes); client mode: tls://H:P (bytes) or https://H:P (HTTP)',
    metavar: 'URL',
    default: 'http://127.0.0.1:8080',
  },
  {
    name: 'cert',
    type: 'string',
    help: 'certificate chain file (PEM, leaf first)',
    metavar: 'FILE',
    default: '',
    group: TLS,
  },
  { name: 'key', type: 'string', help: 'private key file (PEM)', metavar: 'FILE', default: '', group: TLS },
  {
    name: 'tls-dir',
    type: 'string',
    help: 'a mounted Kubernetes TLS Secret: tls.crt, tls.key and optional ca.crt (instead of --cert/--key)',
    metavar: 'DIR',
    default: '',
    group: TLS,
  },
  {
    name: 'sni-dirs',
    type: 'list',
    help: 'more TLS Secret dirs, each served for the DNS names in its certificate (SNI)',
    metavar: 'DIR,...',
    default: [],
    group: TLS,
  },
  {
    name: 'min-tls-version',
    type: 'string',
    help: 'lowest TLS version accepted: TLSv1.2 or TLSv1.3',
    metavar: 'VERSION',
    default: 'TLSv1.2',
    group: TLS,
  },
  {
    name: 'ciphers',
    type: 'string',
    help: 'OpenSSL cipher list in server preference order (the default is Mozilla intermediate: AEAD only)',
    metavar: 'LIST',
    default: INTERMEDIATE_CIPHERS,
    group: TLS,
  },
  {
    name: 'handshake-timeout',
    type: 'duration',
    help: 'time a client has to complete the TLS handshake',
    default: 10_000,
    group: TLS,
  },
  {
    name: 'session-tickets',
    type: 'boolean',
    help: 'issue TLS session tickets so returning clients resume without a full handshake',
    default: true,
    group: TLS,
  },
  {
    name: 'max-connections',
    type: 'number',
    help: 'most client connections at once; more are refused (handshake flood guard)',
    default: 10_000,
    group: TLS,
  },
  {
    name: 'hsts',
    type: 'string',
    help: 'Strict-Transport-Security value added to responses, e.g. "max-age=31536000" (off when empty)',
    metavar: 'VALUE',
    default: '',
  },
  {
    name: 'redirect-listen',
    type: 'string',
    help: 'plain-HTTP listener that only answers 308 to https:// (e.g. 0.0.0.0:8081), or off',
    metavar: 'HOST:PORT',
    default: 'off',
  },
  {
    name: 'redirect-port',
    type: 'number',
    help: 'HTTPS port written into redirects (0: the --listen port; 443 is left out of the URL)',
    default: 0,
  },
  {
    name: 'ready-upstream',
    type: 'boolean',
    help: 'report not ready while the upstream refuses connections',
    default: false,
  },
  {
    name: 'upstream-check-interval',
    type: 'duration',
    help: 'how often --ready-upstream probes the upstream',
    default: 5000,
  },
  {
    name: 'ca',
    type: 'string',
    help: 'client mode: CA bundle the server certificate must chain to (default with --tls-dir: its ca.crt; else the system roots); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: MTLS,
  },
  {
    name: 'client-auth',
    type: 'string',
    help: 'none | optional (verify if sent) | require (verify, refuse handshakes without one)',
    metavar: 'MODE',
    default: 'none',
    group: MTLS,
  },
  {
    name: 'client-ca',
    type: 'string',
    help: 'CA bundle that signs client certificates (default with --tls-dir: its ca.crt); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: MTLS,
  },
  {
    name: 'allow-cn',
    type: 'list',
    help: 'accept only peers with one of these subject common names (server mode: clients; client mode: the server)',
    metavar: 'CN,...',
    default: [],
    group: MTLS,
  },
  {
    name: 'allow-san',
    type: 'list',
    help: 'accept only peers with one of these SANs: DNS name, URI such as spiffe://..., IP, email (server mode: clients; client mode: the server, instead of the host-name check)',
    metavar: 'SAN,...',
    default: [],
    group: MTLS,
  },
  {
    name: 'client-cert-header',
    type: 'boolean',
    help: 'send the verified client certificate upstream as RFC 9440 Client-Cert',
    default: true,
    group: MTLS,
  },
  {
    name: 'client-cert-chain-header',
    type: 'boolean',
    help: 'also send RFC 9440 Client-Cert-Chain (intermediates of the verified chain, root left out)',
    default: false,
    group: MTLS,
  },
  {
    name: 'xfcc',
    type: 'boolean',
    help: "also send Envoy's X-Forwarded-Client-Cert (Hash, Subject, URI, DNS)",
    default: false,
    group: MTLS,
  },
  {
    name: 'upstream-ca',
    type: 'string',
    help: 'CA bundle the app certificate must chain to (default: the system roots); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: UPSTREAM_TLS,
  },
  {
    name: 'upstream-cert',
    type: 'string',
    help: 'certificate presented to the app (mTLS to the upstream); hot-reloaded',
    metavar: 'FILE',
    default: '',
    group: UPSTREAM_TLS,
  },
  {
    name: 'upstream-key',
    type: 'string',
    help: 'private key of --upstream-cert',
    metavar: 'FILE',
    default: '',
    group: UPSTREAM_TLS,
  },
  {
    name: 'upstream-server-name',
    type: 'string',
    help: 'SNI and the name the upstream certificate is checked against (default: the --upstream host); client mode too',
    metavar: 'NAME',
    default: '',
    group: UPSTREAM_TLS,
  },
  {
    name: 'upstream-allow-san',
    type: 'list',
    help: 'accept only app certificates with one of these SANs (instead of the host-name check)',
    metavar: 'SAN,...',
    default: [],
    group: UPSTREAM_TLS,
  },
  {
    name: 'proxy-protocol',
    type: 'string',
    help: 'server mode with tcp://: send a PROXY header first: off, v1 (text) or v2 (binary, with TLS and client identity TLVs)',
    metavar: 'VERSION',
    default: 'off',
    group: TCP,
  },
  {
    name: 'tcp-idle-timeout',
    type: 'duration',
    help: 'close a TCP connection after this long without a byte either way; 0 none',
    default: 0,
    group: TCP,
  },
  ...httpProxyFlags(),
  ...accessLogFlags(),
];

export const schema = z
  .strictObject({
    ...commonSchema,
    ...httpProxySchema,
    ...accessLogSchema,
    mode: z.enum(['server', 'client']),
    listen: zAddress,
    upstream: z.string().check(
      z.superRefine((s, ctx) => {
        const u = parseUpstream(s);
        if (typeof u === 'string') ctx.addIssue({ code: 'custom', message: u });
      }),
    ),
    ca: z.string(),
    upstreamCa: z.string(),
    upstreamCert: z.string(),
    upstreamKey: z.string(),
    upstreamServerName: z.string(),
    upstreamAllowSan: z.array(z.string().check(z.minLength(1))),
    proxyProtocol: z.enum(['off', 'v1', 'v2']),
    tcpIdleTimeout: zDuration,
    cert: z.string(),
    key: z.string(),
    tlsDir: z.string(),
    sniDirs: z.array(z.string().check(z.minLength(1))),
    minTlsVersion: z.enum(['TLSv1.2', 'TLSv1.3']),
    ciphers: z.string().check(z.minLength(1)),
    handshakeTimeout: zDuration,
    sessionTickets: z.boolean(),
    maxConnections: z.number().check(z.int(), z.minimum(1)),
    hsts: z.string().check(z.refine((s) => !/[\r\n]/.test(s), { message: 'must be one line' })),
    redirectListen: zAddressOrOff,
    redirectPort: z.number().check(z.int(), z.minimum(0), z.maximum(65535)),
    readyUpstream: z.boolean(),
    upstreamCheckInterval: zDuration,
    clientAuth: z.enum(['none', 'optional', 'require']),
    clientCa: z.string(),
    allowCn: z.array(z.string().check(z.minLength(1))),
    allowSan: z.array(z.string().check(z.minLength(1))),
    clientCertHeader: z.boolean(),
    clientCertChainHeader: z.boolean(),
    xfcc: z.boolean(),
  })
  .check(
    z.superRefine((c, ctx) => {
      const issue = (path: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [path], message });
      const up = parseUpstream(c.upstream);
      if (typeof up === 'string') return; // reported on the field
      const kinds: readonly string[] = MODE_UPSTREAMS[c.mode];
      if (!kinds.includes(up.kind))
        issue(
          'upstream',
          `--mode ${c.mode} takes ${kinds.map((k) => (k === 'http' ? 'http:// or unix:' : `${k}://`)).join(', ')}`,
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
      if (c.ca)
        issue('ca', '--ca is for --mode client; client certificates are verified against --client-ca');
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
        issue(
          c.upstreamCert ? 'upstreamKey' : 'upstreamCert',
          'give both --upstream-cert and --upstream-key',
        );
      if (c.proxyProtocol !== 'off' && up.kind !== 'tcp')
        issue('proxyProtocol', '--proxy-protocol needs --upstream tcp://');
    }),
  );

export type SidecarConfig = z.infer<typeof schema> & CommonConfig & HttpProxyConfig & AccessLogConfig;
