import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { flags, type SidecarConfig, schema } from './config.js';
import { createSidecar } from './sidecar.js';

/** dds-tls-sidecar: what `dds-tls-sidecar` runs alone and what dds-pod hosts beside other components. */
export const component: Component<SidecarConfig> = {
  name: 'tls-sidecar',
  version: packageVersion(import.meta.url),
  summary:
    'TLS and mTLS for any app in a pod: HTTPS, HTTP/2 and gRPC, or raw TCP, in front of it (server mode) or out of it (client mode), with certificate hot reload',
  usage: [
    'dds-tls-sidecar --cert tls.crt --key tls.key [--upstream http://127.0.0.1:8080] [--listen 0.0.0.0:8443]',
    '       dds-tls-sidecar --cert tls.crt --key tls.key --upstream tcp://127.0.0.1:6379 [--proxy-protocol v2]',
    '       dds-tls-sidecar --mode client --tls-dir /tls --listen 127.0.0.1:6380 --upstream tls://redis:6380 --allow-san spiffe://...',
  ].join('\n'),
  footer:
    'Certificates, keys and CA bundles are watched: a changed pair (including a Kubernetes Secret\n`..data` swap) is used for new handshakes; a pair that does not parse or match is refused.',
  defaultAdmin: '0.0.0.0:9901',
  workers: true,
  flags,
  schema,
  create: (ctx) => createSidecar(ctx),
};
