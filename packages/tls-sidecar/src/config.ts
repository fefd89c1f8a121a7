import type { FlagSpec } from '@dds/core/config/flags';
import {
  type CommonConfig,
  commonSchema,
  zAddress,
  zAddressOrOff,
  zDuration,
  zUpstreamUrl,
} from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import {
  type HttpProxyConfig,
  httpProxyFlags,
  httpProxySchema,
  upstreamFlag,
} from '@dds/core/http/proxy-config';
import { INTERMEDIATE_CIPHERS } from '@dds/core/tls/secure-context';

const TLS = 'TLS';
const MTLS = 'Client certificates (mTLS)';

export const flags: FlagSpec[] = [
  {
    name: 'listen',
    type: 'string',
    help: 'HTTPS listen address (HTTP/1.1 and HTTP/2 by ALPN)',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:8443',
  },
  upstreamFlag(),
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
    help: 'accept only client certificates with one of these subject common names',
    metavar: 'CN,...',
    default: [],
    group: MTLS,
  },
  {
    name: 'allow-san',
    type: 'list',
    help: 'accept only client certificates with one of these SANs (DNS name, URI such as spiffe://..., IP, email)',
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
  ...httpProxyFlags(),
];

export const schema = z
  .strictObject({
    ...commonSchema,
    ...httpProxySchema,
    listen: zAddress,
    upstream: zUpstreamUrl,
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
      if (c.tlsDir && (c.cert || c.key)) issue('tlsDir', 'give either --tls-dir or --cert/--key, not both');
      else if (!c.tlsDir && !(c.cert && c.key))
        issue(c.cert ? 'key' : 'cert', 'a certificate and key are required (--cert and --key, or --tls-dir)');
      if (c.clientAuth !== 'none' && !c.clientCa && !c.tlsDir)
        issue('clientCa', `--client-auth ${c.clientAuth} needs --client-ca (or --tls-dir with ca.crt)`);
      if (c.clientAuth === 'none' && (c.allowCn.length || c.allowSan.length))
        issue('clientAuth', '--allow-cn/--allow-san need --client-auth optional or require');
    }),
  );

export type SidecarConfig = z.infer<typeof schema> & CommonConfig & HttpProxyConfig;
