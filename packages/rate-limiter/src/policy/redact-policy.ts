import { redactEntry } from './key-entries.js';
import type { PolicyConfig } from './schema.js';

/**
 * A policy as /config, --print-config and /ratelimit show it: allow-list and override entries
 * keep their addresses and part names, never the key values (API keys, user ids). Core's
 * redaction then applies (match headers named like secrets, URL passwords).
 */
export function redactPolicy(p: PolicyConfig): PolicyConfig {
  return {
    ...p,
    allow: p.allow.map(redactEntry),
    overrides: p.overrides.map((o) => ({ ...o, keys: o.keys.map(redactEntry) })),
  };
}
