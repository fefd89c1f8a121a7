import { readFileSync } from 'node:fs';
import { readSecretFile } from '@dds/core/config/secret-file';
import { DdsError } from '@dds/core/errors';
import { type JwtPayload, tokenOf } from './key-extractor.js';
import type { PolicyRequest } from './matcher.js';

/** Where JWT keys come from and what a token must satisfy (flags --jwt-*, YAML `jwt:`). */
export interface JwtConfig {
  /** a JWKS document (`{"keys": [...]}`), re-read when it changes */
  jwksFile: string;
  /** a JWKS endpoint (https, or http on loopback), fetched and cached by jose */
  jwksUrl: string;
  /** an HMAC key (HS256/384/512), re-read when it changes */
  secretFile: string;
  /** accepted `iss` values (none: not checked) */
  issuer: string[];
  /** accepted `aud` values (none: not checked) */
  audience: string[];
  /** accepted `alg` values (none: every algorithm of the key source) */
  algorithms: string[];
  /** leeway for `exp` and `nbf`, milliseconds */
  clockTolerance: number;
  /** verified tokens remembered (0: verify every request) */
  cacheSize: number;
}

/** Shortest HMAC key: RFC 7518 3.2 wants at least the hash size (32 bytes for HS256). */
export const MIN_SECRET_LENGTH = 32;
/** Longest token verified; longer ones are refused unread (a request head is at most 16 KiB anyway). */
export const MAX_TOKEN_LENGTH = 8192;
/** A verified token is trusted this long at most (then verified again: a key may have been withdrawn). */
export const VERIFIED_TTL_MS = 60_000;
/** A refused token is refused this long without verifying again. */
const REFUSED_TTL_MS = 10_000;

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const PUBLIC_KEY_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export const jwtConfigured = (c: JwtConfig): boolean =>
  c.jwksFile !== '' || c.jwksUrl !== '' || c.secretFile !== '';

/** Why a token was refused: the label of dds_ratelimit_jwt_rejected_total. */
export type RejectReason =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'unknown_key'
  | 'jwks_unavailable'
  | 'too_large';

/** What is wrong with a JWT key source, for config validation (start and reload); undefined if usable. */
export function jwtSourceError(c: JwtConfig): { field: string; message: string } | undefined {
  const set = (['jwksFile', 'jwksUrl', 'secretFile'] as const).filter((k) => c[k] !== '');
  if (set.length > 1) return { field: set[1]!, message: `give one JWT key source, not ${set.join(' and ')}` };
  if (c.secretFile !== '') {
    const r = readSecretFile(c.secretFile, MIN_SECRET_LENGTH);
    if ('error' in r) return { field: 'secretFile', message: r.error };
    const bad = c.algorithms.filter((a) => !HMAC_ALGORITHMS.includes(a));
    if (bad.length)
      return {
        field: 'algorithms',
        message: `${bad.join(', ')} cannot be verified with a shared secret (HS256, HS384, HS512)`,
      };
  }
  if (c.jwksFile !== '') {
    const r = readJwks(c.jwksFile);
    if (typeof r === 'string') return { field: 'jwksFile', message: r };
  }
  if (c.jwksUrl !== '') {
    let u: URL;
    try {
      u = new URL(c.jwksUrl);
    } catch {
      return { field: 'jwksUrl', message: 'expected an https:// URL' };
    }
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback))
      return {
        field: 'jwksUrl',
        message: 'expected https:// (plain http only on loopback: keys fetched in the clear can be replaced)',
      };
  }
  if (set.length && (c.jwksFile !== '' || c.jwksUrl !== '')) {
    const bad = c.algorithms.filter((a) => !PUBLIC_KEY_ALGORITHMS.includes(a));
    if (bad.length)
      return {
        field: 'algorithms',
        message: `${bad.join(', ')} is not a public-key algorithm (${PUBLIC_KEY_ALGORITHMS.join(', ')})`,
      };
  }
  return undefined;
}

/** A JWKS file's content, or what is wrong with it. */
function readJwks(file: string): { keys: object[] } | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `${file} is not JSON: ${(e as Error).message}`;
  }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k !== null && typeof k === 'object'))
    return `${file} is not a JWKS: expected {"keys": [ ...at least one JWK... ]}`;
  if (keys.some((k) => (k as { d?: unknown }).d !== undefined || (k as { k?: unknown }).k !== undefined))
    return `${file} holds private or symmetric keys: a JWKS file holds public keys only (use --jwt-secret-file for HMAC)`;
  return { keys: keys as object[] };
}

/** A remembered verdict: a verified payload, or why the token was refused. */
type Entry =
  | { payload: JwtPayload; until: number }
  | { payload: undefined; until: number; reason: RejectReason };

/**
 * Verifies the tokens jwt: key parts read, through jose (loaded only when a key source is
 * configured). A token's verdict is remembered (bounded, at most VERIFIED_TTL_MS and never past
 * its `exp`), so a client sending the same token pays for one signature check a minute, and
 * concurrent requests with a new token share one verification.
 */
export class JwtVerifier {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<JwtPayload | undefined>>();

  private constructor(
    private readonly verify: (token: string) => Promise<JwtPayload>,
    private readonly cacheSize: number,
    private readonly clock: () => number,
    private readonly onReject: (reason: RejectReason) => void,
  ) {}

  static async create(
    c: JwtConfig,
    onReject: (reason: RejectReason) => void,
    clock: () => number = Date.now,
  ): Promise<JwtVerifier> {
    const problem = jwtSourceError(c);
    if (problem) throw new DdsError('DDS_CONFIG_INVALID', `jwt.${problem.field}: ${problem.message}`);
    const jose = await import('jose');
    const options = {
      algorithms: c.algorithms.length ? c.algorithms : c.secretFile ? HMAC_ALGORITHMS : PUBLIC_KEY_ALGORITHMS,
      issuer: c.issuer.length ? c.issuer : undefined,
      audience: c.audience.length ? c.audience : undefined,
      clockTolerance: Math.round(c.clockTolerance / 1000),
    };
    let verify: (token: string) => Promise<JwtPayload>;
    if (c.secretFile) {
      const key = new TextEncoder().encode(
        (readSecretFile(c.secretFile, MIN_SECRET_LENGTH) as { secret: string }).secret,
      );
      verify = async (t) => (await jose.jwtVerify(t, key, options)).payload;
    } else if (c.jwksFile) {
      const keys = jose.createLocalJWKSet(readJwks(c.jwksFile) as { keys: never[] });
      verify = async (t) => (await jose.jwtVerify(t, keys, options)).payload;
    } else {
      const keys = jose.createRemoteJWKSet(new URL(c.jwksUrl), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      verify = async (t) => (await jose.jwtVerify(t, keys, options)).payload;
    }
    return new JwtVerifier(verify, c.cacheSize, clock, onReject);
  }

  /** The verified payload of a token (undefined: missing or refused); synchronous when remembered. */
  claims(token: string | undefined): JwtPayload | undefined | Promise<JwtPayload | undefined> {
    if (token === undefined) return undefined;
    const now = this.clock();
    const hit = this.cache.get(token);
    if (hit !== undefined && hit.until > now) {
      if (hit.payload === undefined) this.onReject(hit.reason);
      return hit.payload;
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      this.onReject('too_large');
      return undefined;
    }
    const inFlight = this.pending.get(token);
    if (inFlight) return inFlight;
    const p = this.verify(token).then(
      (payload) => {
        const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
        this.remember(token, { payload, until: Math.min(exp, this.clock() + VERIFIED_TTL_MS) });
        return payload;
      },
      (err: unknown) => {
        const reason = rejectReason(err);
        this.onReject(reason);
        this.remember(token, { payload: undefined, until: this.clock() + REFUSED_TTL_MS, reason });
        return undefined;
      },
    );
    this.pending.set(token, p);
    void p.finally(() => this.pending.delete(token));
    return p;
  }

  /**
   * The verified payloads of the tokens in these headers (undefined where missing or refused):
   * synchronous when every token is remembered, else once the verifications are done.
   */
  verifyRequest(
    req: PolicyRequest,
    headers: readonly string[],
  ): Map<string, JwtPayload | undefined> | Promise<Map<string, JwtPayload | undefined>> {
    const out = new Map<string, JwtPayload | undefined>();
    const pending: Promise<void>[] = [];
    for (const h of headers) {
      const r = this.claims(tokenOf(req, h));
      if (r instanceof Promise) pending.push(r.then((payload) => void out.set(h, payload)));
      else out.set(h, r);
    }
    return pending.length ? Promise.all(pending).then(() => out) : out;
  }

  /** Remembers a verdict; the oldest goes first when the cache is full (bounded memory). */
  private remember(token: string, e: Entry): void {
    if (this.cacheSize <= 0) return;
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, e);
  }
}

/** jose's error codes as the few reasons an operator acts on. */
export function rejectReason(err: unknown): RejectReason {
  const e = err as { code?: string; claim?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return e.claim === 'nbf' || e.claim === 'iat' ? 'not_yet_valid' : 'claims';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'algorithm';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return 'jwks_unavailable';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JWK_INVALID':
      return 'malformed';
    default:
      // fetch failures of a remote JWKS are plain errors
      return 'jwks_unavailable';
  }
}
