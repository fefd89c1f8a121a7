import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type * as z from '@dds/core/config/zod';
import type { httpCheck } from './check-spec.js';
import { CheckFailure, type Probe, toFailure } from './probe.js';

/**
 * HTTP: the status must fall in expectStatus and, if bodyRegex is set, the first maxBody bytes of
 * the body must match it. Redirects are not followed (a 3xx is an answer, as for the kubelet).
 */
export function httpProbe(spec: z.infer<typeof httpCheck>): Probe {
  const url = new URL(spec.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = { 'user-agent': 'dds-health-adapter', ...spec.headers };
  return {
    componentType: 'component',
    run(signal) {
      return new Promise((resolve, reject) => {
        const req = request(url, {
          method: spec.method,
          headers,
          signal,
          agent: false,
          rejectUnauthorized: !spec.insecure,
        });
        req.once('error', (err) => reject(toFailure(err, signal)));
        req.once('response', (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const ok = spec.expectStatus.some(([lo, hi]) => status >= lo && status <= hi);
          if (!ok) {
            res.destroy();
            return reject(new CheckFailure('unhealthy', `HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
          }
          if (!spec.bodyRegex) {
            res.destroy();
            return resolve(`HTTP ${status}`);
          }
          const chunks: Buffer[] = [];
          let size = 0;
          const finish = () => {
            res.destroy();
            const body = Buffer.concat(chunks).subarray(0, spec.maxBody).toString('utf8');
            if (spec.bodyRegex!.test(body)) resolve(`HTTP ${status}, body matches ${spec.bodyRegex}`);
            else
              reject(
                new CheckFailure(
                  'unhealthy',
                  `HTTP ${status}, body does not match ${spec.bodyRegex}: ${JSON.stringify(body.slice(0, 120))}`,
                ),
              );
          };
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            size += c.length;
            if (size >= spec.maxBody) finish();
          });
          res.once('end', finish);
          res.once('error', (err) => reject(toFailure(err, signal)));
        });
        req.end();
      });
    },
  };
}
