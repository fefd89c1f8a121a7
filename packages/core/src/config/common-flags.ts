import { adminTokenFlag } from '../admin/admin-token.js';
import type { FlagSpec } from './flags.js';

/** Flags every component accepts, listed after the component's own in --help. */
export function commonFlags(defaults: {
  admin: string;
  workers?: boolean;
  adminActions?: boolean;
}): FlagSpec[] {
  const g = 'Common';
  const workers: FlagSpec[] = defaults.workers
    ? [
        {
          name: 'workers',
          type: 'number',
          help: 'processes serving traffic, sharing the listeners (metrics aggregated on the admin port)',
          metavar: 'N',
          default: 1,
          group: g,
        },
      ]
    : [];
  return [
    ...workers,
    {
      name: 'config',
      type: 'string',
      help: 'YAML config file, watched and hot-reloaded',
      metavar: 'FILE',
      group: g,
    },
    {
      name: 'admin',
      type: 'string',
      help: 'admin server (/healthz /readyz /metrics /config), or "off"',
      metavar: 'HOST:PORT',
      default: defaults.admin,
      group: g,
    },
    ...(defaults.adminActions ? [adminTokenFlag(g)] : []),
    {
      name: 'log-level',
      type: 'string',
      help: 'trace|debug|info|warn|error|fatal|silent',
      metavar: 'LEVEL',
      default: 'info',
      group: g,
    },
    {
      name: 'shutdown-delay',
      type: 'duration',
      help: 'on SIGTERM, keep accepting this long while endpoints are removed',
      default: 0,
      group: g,
    },
    {
      name: 'drain-timeout',
      type: 'duration',
      help: 'on SIGTERM, wait this long for in-flight work before exiting',
      default: 30_000,
      group: g,
    },
    {
      name: 'reload-interval',
      type: 'duration',
      help: 'how often the config file is checked for changes (besides fs events)',
      default: 1000,
      group: g,
    },
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
}
