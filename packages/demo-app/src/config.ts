import { type CommonConfig, commonSchema } from '@dds/core/config/common-flags';
import type { FlagSpec } from '@dds/core/config/flags';
import { zAddress } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';

export const flags: FlagSpec[] = [
  {
    name: 'listen',
    type: 'string',
    help: 'HTTP listen address',
    metavar: 'HOST:PORT',
    default: '127.0.0.1:8080',
  },
  {
    name: 'name',
    type: 'string',
    help: 'instance name, returned in every response (x-served-by)',
    default: 'demo',
  },
  {
    name: 'message',
    type: 'string',
    help: 'body of GET / (hot-reloadable)',
    default: 'hello from the legacy app',
  },
  {
    name: 'fail-rate',
    type: 'number',
    help: 'fraction of requests answered 500 (0..1), for failure tests',
    default: 0,
  },
  { name: 'delay', type: 'duration', help: 'added latency per request', default: 0 },
];

export const schema = z.strictObject({
  ...commonSchema,
  listen: zAddress,
  name: z.string().check(z.minLength(1)),
  message: z.string(),
  failRate: z.number().check(z.minimum(0), z.maximum(1)),
  delay: z.number().check(z.minimum(0)),
});

export type DemoConfig = z.infer<typeof schema> & CommonConfig;
