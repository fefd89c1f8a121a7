import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';

export const settings = {
  listen: setting.address({
    help: 'HTTP listen address',
    default: '127.0.0.1:8080',
  }),
  name: setting.string({
    help: 'instance name, returned in every response (x-served-by)',
    default: 'demo',
    schema: z.string().check(z.minLength(1)),
  }),
  message: setting.string({
    help: 'body of GET / (hot-reloadable)',
    default: 'hello from the legacy app',
  }),
  failRate: setting.number({
    help: 'fraction of requests answered 500 (0..1), for failure tests',
    default: 0,
    schema: z.number().check(z.minimum(0), z.maximum(1)),
  }),
  delay: setting.duration({
    help: 'added latency per request',
    default: 0,
    schema: z.number().check(z.minimum(0)),
  }),
};

export const flags = flagsOf(settings);

export const schema = configSchema(settings);

export type DemoConfig = z.infer<typeof schema> & CommonConfig;
