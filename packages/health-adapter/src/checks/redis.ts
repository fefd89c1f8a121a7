import type * as z from '@dds/core/config/zod';
import type { redisCheck } from './check-spec.js';
import { readPassword } from './password.js';
import { CheckFailure, type Probe } from './probe.js';
import { encodeCommand, parseResp, RespError, type RespValue } from './resp-parser.js';
import { SocketSession } from './socket-session.js';
import { tlsOptions } from './tls-options.js';

/**
 * Redis: AUTH when a password is set, PING must answer PONG (a server loading its dataset answers
 * -LOADING), INFO must not say loading:1, and with replicaLink a replica's link to its master
 * must be up. Spoken as raw RESP on one socket: no client library, no reconnect loops.
 */
export function redisProbe(spec: z.infer<typeof redisCheck>): Probe {
  const url = new URL(spec.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 6379);
  const tls = { ...spec, tls: spec.tls || url.protocol === 'rediss:' };
  const user = decodeURIComponent(url.username);
  const db = url.pathname.length > 1 ? url.pathname.slice(1) : '';
  return {
    componentType: 'datastore',
    async run(signal) {
      const password = readPassword(spec);
      const session = await SocketSession.open({ host, port, tls: tlsOptions(tls) }, signal);
      try {
        const call = async (...args: string[]): Promise<RespValue> => {
          session.send(encodeCommand(...args));
          return session.read(parseResp);
        };
        if (password !== undefined) {
          const r = await call('AUTH', ...(user ? [user] : []), password);
          if (r instanceof RespError) throw new CheckFailure('auth', `AUTH: ${r.message}`);
        }
        if (db) {
          const r = await call('SELECT', db);
          if (r instanceof RespError) throw new CheckFailure('unhealthy', `SELECT ${db}: ${r.message}`);
        }
        const pong = await call('PING');
        if (pong instanceof RespError) {
          if (/^NOAUTH|^WRONGPASS/.test(pong.message)) throw new CheckFailure('auth', pong.message);
          throw new CheckFailure('unhealthy', pong.message);
        }
        if (pong !== 'PONG') throw new CheckFailure('protocol', `PING answered ${JSON.stringify(pong)}`);
        const info = await call('INFO');
        if (info instanceof RespError) throw new CheckFailure('unhealthy', `INFO: ${info.message}`);
        if (typeof info !== 'string') throw new CheckFailure('protocol', 'INFO did not answer a bulk string');
        const fields = infoFields(info);
        if (fields.get('loading') === '1')
          throw new CheckFailure('unhealthy', 'loading the dataset into memory');
        const role = fields.get('role') ?? 'unknown';
        if (spec.replicaLink && role === 'slave') {
          const link = fields.get('master_link_status');
          if (link !== 'up')
            throw new CheckFailure(
              'unhealthy',
              `replica link to ${fields.get('master_host')}:${fields.get('master_port')} is ${link ?? 'unknown'}`,
            );
        }
        return `PONG, role ${role === 'slave' ? 'replica' : role}`;
      } finally {
        session.close();
      }
    },
  };
}

/** The key:value lines of INFO (sections and comments skipped). */
export function infoFields(info: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of info.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === '#') continue;
    out.set(line.slice(0, colon), line.slice(colon + 1).trimEnd());
  }
  return out;
}
