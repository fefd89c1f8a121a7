#!/usr/bin/env node
import { runComponent } from '@dds/core/runner';
import { flags, type SidecarConfig, schema } from './config.js';
import { createTlsSidecar } from './tls-sidecar.js';

await runComponent<SidecarConfig>({
  name: 'tls-sidecar',
  version: '0.1.0',
  summary: 'HTTPS, HTTP/2 and mTLS in front of a plain-HTTP app, with certificate hot reload',
  usage:
    'dds-tls-sidecar --cert tls.crt --key tls.key [--upstream http://127.0.0.1:8080] [--listen 0.0.0.0:8443]',
  footer:
    'Certificates, keys and CA bundles are watched: a changed pair (including a Kubernetes Secret\n`..data` swap) is used for new handshakes; a pair that does not parse or match is refused.',
  defaultAdmin: '0.0.0.0:9901',
  workers: true,
  flags,
  schema,
  create: (ctx) => createTlsSidecar(ctx),
});
