import { adminTokenSettings } from '../admin/admin-token.js';
import type { FlagSpec } from './flags.js';
import { zAddressOrOff, zLogLevel } from './schemas.js';
import { flagsOf, type Settings, setting, shapeOf } from './settings.js';
import * as z from './zod.js';

const g = 'Common';

/** The settings every component has (admin server, logging, lifecycle), after the component's own in --help. */
export const commonSettings = {
  /** the default is the component's own admin port (Component.defaultAdmin) */
  admin: setting.string({
    help: 'admin server (/healthz /readyz /metrics /config), or "off"',
    metavar: 'HOST:PORT',
    group: g,
    schema: zAddressOrOff,
  }),
  logLevel: setting.string({
    help: 'trace|debug|info|warn|error|fatal|silent',
    metavar: 'LEVEL',
    default: 'info',
    group: g,
    schema: zLogLevel,
  }),
  shutdownDelay: setting.duration({
    help: 'on SIGTERM, keep accepting this long while endpoints are removed',
    default: 0,
    group: g,
  }),
  drainTimeout: setting.duration({
    help: 'on SIGTERM, wait this long for in-flight work before exiting',
    default: 30_000,
    group: g,
  }),
  reloadInterval: setting.duration({
    help: 'how often the config file is checked for changes (besides fs events)',
    default: 1000,
    group: g,
  }),
  /** processes serving traffic (components that support it); 1 = no cluster */
  workers: setting.number({
    help: 'processes serving traffic, sharing the listeners (metrics aggregated on the admin port)',
    metavar: 'N',
    default: 1,
    group: g,
    schema: z._default(z.int().check(z.minimum(1), z.maximum(64)), 1),
  }),
};

/** The schema fields of commonSettings, for every component's strictObject. */
export const commonSchema = shapeOf(commonSettings);

export type CommonConfig = z.infer<z.ZodMiniObject<typeof commonSchema>>;

/**
 * A component's config schema: the common settings, the component's own, and what only YAML can
 * say (`extra`: lists of objects such as experiments, policies, checks). Add its cross-field rules
 * with `.check()`.
 */
export function configSchema<
  T extends Settings,
  X extends Record<string, z.ZodMiniType> = Record<never, never>,
>(settings: T, extra?: X) {
  return z.strictObject({ ...commonSchema, ...shapeOf(settings), ...(extra as X) });
}

/** Flags of the CLI only: they act and are no part of the config. */
const actions: FlagSpec[] = [
  {
    name: 'check-config',
    type: 'boolean',
    help: 'validate the configuration and exit (0 valid, 2 invalid)',
    action: true,
    group: g,
  },
  {
    name: 'print-config',
    type: 'boolean',
    help: 'print the effective configuration (secrets redacted) and exit',
    action: true,
    group: g,
  },
  { name: 'help', short: 'h', type: 'boolean', help: 'show this help and exit', action: true, group: g },
  { name: 'version', type: 'boolean', help: 'print the version and exit', action: true, group: g },
];

/** Flags every component accepts, listed after the component's own in --help. */
export function commonFlags(defaults: {
  admin: string;
  workers?: boolean;
  adminActions?: boolean;
}): FlagSpec[] {
  const { workers, admin, ...rest } = commonSettings;
  return [
    ...(defaults.workers ? flagsOf({ workers }) : []),
    {
      name: 'config',
      type: 'string',
      help: 'YAML config file, watched and hot-reloaded',
      metavar: 'FILE',
      group: g,
    },
    ...flagsOf({ admin: { ...admin, default: defaults.admin } }),
    ...(defaults.adminActions ? flagsOf(adminTokenSettings) : []),
    ...flagsOf(rest),
    ...actions,
  ];
}
