import { DdsError } from '../errors.js';

/**
 * The settings of `fields` that differ between two configs (compared by value: lists and
 * objects too).
 */
export function changedFields<C>(next: C, prev: C, fields: readonly (keyof C & string)[]): string[] {
  return fields.filter((f) => JSON.stringify(next[f]) !== JSON.stringify(prev[f]));
}

/**
 * Refuses a reload that changes a setting only a restart applies (a listen address, a store):
 * throws a DdsError naming them, before the component changes anything, so the old config
 * keeps serving.
 */
export function refuseRestartOnly<C>(next: C, prev: C, fields: readonly (keyof C & string)[]): void {
  const changed = changedFields(next, prev, fields);
  if (changed.length > 0)
    throw new DdsError(
      'DDS_CONFIG_INVALID',
      `${changed.join(', ')} cannot change on reload (restart to apply ${changed.length > 1 ? 'them' : 'it'})`,
    );
}
