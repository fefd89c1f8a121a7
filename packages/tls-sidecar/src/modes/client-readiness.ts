import type { ClientTlsContext } from '@dds/core/tls/client-context';

/** Client mode is not ready while the certificate it presents is outside its validity period. */
export function clientCertificateReady(ctx: ClientTlsContext): true | string {
  const pair = ctx.pair;
  if (pair === undefined) return true;
  const now = Date.now();
  const { info } = pair;
  if (info.notAfter.getTime() <= now)
    return `certificate ${pair.material.paths.cert} expired at ${info.notAfter.toISOString()}`;
  if (info.notBefore.getTime() > now)
    return `certificate ${pair.material.paths.cert} is not valid before ${info.notBefore.toISOString()}`;
  return true;
}
