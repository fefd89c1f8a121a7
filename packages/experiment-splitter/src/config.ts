import { type AccessLogConfig, accessLogSettings } from '@dds/core/access-log/access-log-config';
import { adminTokenSchema } from '@dds/core/admin/admin-token';
import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { zAddressOrOff, zDuration, zToken, zUpstreamUrl } from '@dds/core/config/schemas';
import { zSecretFile } from '@dds/core/config/secret-file';
import { flagsOf, setting, shapeOf } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';
import { zKeySource } from '@dds/core/http/key-source';
import { type HttpProxyConfig, httpProxySettings } from '@dds/core/http/proxy-config';
import { laneSize, weightToBuckets } from './bucketing.js';

/** Shortest override secret: 256 bits as hex is 64, as base64 44; 32 is the floor for HMAC-SHA256. */
export const OVERRIDE_SECRET_MIN = 32;

const S = 'Splitting (flags-only quick mode: one experiment, control + experiment)';
const C = 'Identity cookie (issued when a request carries no key)';
const V = 'Variant headers and overrides';
const G = 'Guard (automatic rollback to control)';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const zName = z.string().check(z.regex(NAME, 'use 1-64 of A-Z a-z 0-9 _ . -'));
const zHeaderOrOff = zToken('expected a header name or "off"');
const zCookieOrOff = zToken('expected a cookie name or "off"');

/** The guard's settings: flags for the defaults; an experiment may override each in YAML (`guard:`). */
const guardSettings = {
  enabled: setting.boolean({
    flag: 'guard',
    help: 'shift traffic back to control when a variant is worse than control',
    default: false,
    group: G,
  }),
  errorMargin: setting.number({
    help: 'trip when variant error rate > control error rate + this (0..1)',
    metavar: 'RATE',
    default: 0.05,
    group: G,
    schema: z.number().check(z.minimum(0), z.maximum(1)),
  }),
  p99Margin: setting.number({
    help: 'trip when variant p99 > control p99 x (1 + this); 0 = latency not guarded',
    metavar: 'RATIO',
    default: 0,
    group: G,
    schema: z.number().check(z.minimum(0)),
  }),
  minSamples: setting.number({
    help: 'requests a variant needs in the window before the guard judges it',
    metavar: 'N',
    default: 100,
    group: G,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  window: setting.duration({
    help: 'sliding window of the guard and of GET /experiments',
    default: 60_000,
    group: G,
    schema: z.pipe(zDuration, z.number().check(z.minimum(1000, 'must be at least 1s'))),
  }),
};
const guardFields = shapeOf(guardSettings);
const zGuard = z.strictObject(guardFields);

export const settings = {
  listen: setting.address({
    help: 'HTTP listen address; off in dds-pod for a component reached only through internal: upstreams',
    schema: zAddressOrOff,
    default: '0.0.0.0:8083',
    group: S,
  }),
  control: setting.string({
    help: 'control backend URL (quick mode)',
    metavar: 'URL',
    default: '',
    group: S,
    schema: z.union([z.literal(''), zUpstreamUrl]),
  }),
  experiment: setting.string({
    help: 'experiment backend URL (quick mode)',
    metavar: 'URL',
    default: '',
    group: S,
    schema: z.union([z.literal(''), zUpstreamUrl]),
  }),
  percent: setting.number({
    help: 'share of users sent to the experiment (quick mode)',
    metavar: 'PCT',
    default: 10,
    group: S,
  }),
  experimentName: setting.string({
    help: 'experiment name in metrics and headers (quick mode)',
    metavar: 'NAME',
    default: 'experiment',
    group: S,
    schema: zName,
  }),
  salt: setting.string({
    help: 'hash salt (quick mode; default: the experiment name)',
    metavar: 'TEXT',
    default: '',
    group: S,
  }),
  key: setting.string({
    help: 'user key: cookie:NAME, header:NAME or ip (default for every experiment)',
    metavar: 'SOURCE',
    default: 'cookie:dds_uid',
    group: S,
    schema: zKeySource,
  }),
  defaultBackend: setting.string({
    help: 'backend for requests no experiment matches (YAML mode; none -> 404)',
    metavar: 'URL',
    default: '',
    group: S,
    schema: z.union([z.literal(''), zUpstreamUrl]),
  }),
  fallbackToControl: setting.boolean({
    help: 'when a variant backend fails, serve the request from control instead of 502/504',
    default: false,
    group: S,
  }),
  fallbackCooldown: setting.duration({
    help: "after a failure, send that backend's users to control for this long (with --fallback-to-control)",
    default: 5000,
    group: S,
  }),
  idCookie: {
    enabled: setting.boolean({
      flag: 'id-cookie',
      help: 'issue a generated id cookie to requests without a key',
      default: true,
      group: C,
    }),
    name: setting.string({
      help: "its name (default: the key's cookie, else dds_uid)",
      metavar: 'NAME',
      default: '',
      group: C,
      schema: z.union([z.literal(''), zCookieOrOff]),
    }),
    path: setting.string({
      help: 'its Path attribute',
      default: '/',
      group: C,
      schema: z.string().check(z.regex(/^[^;\s]*$/, 'no ";" or spaces')),
    }),
    domain: setting.string({
      help: 'its Domain attribute (none by default)',
      default: '',
      group: C,
      schema: z.string().check(z.regex(/^[^;\s]*$/, 'no ";" or spaces')),
    }),
    maxAge: setting.duration({
      help: 'its Max-Age',
      default: 31_536_000_000,
      group: C,
    }),
    sameSite: setting.string({
      help: 'its SameSite attribute: Lax, Strict, None or off',
      default: 'Lax',
      group: C,
      schema: z.enum(['Lax', 'Strict', 'None', 'off']),
    }),
    secure: setting.boolean({
      help: 'set the Secure attribute',
      default: false,
      group: C,
    }),
    httpOnly: setting.boolean({
      help: 'set the HttpOnly attribute',
      default: true,
      group: C,
    }),
  },
  variantHeader: setting.string({
    help: 'request header telling the backend its variant ("off" for none)',
    metavar: 'NAME',
    default: 'x-dds-variant',
    group: V,
    schema: zHeaderOrOff,
  }),
  experimentHeader: setting.string({
    help: 'request header telling the backend the experiment ("off" for none)',
    metavar: 'NAME',
    default: 'x-dds-experiment',
    group: V,
    schema: zHeaderOrOff,
  }),
  responseHeader: setting.boolean({
    help: 'also return the variant header in responses',
    default: false,
    group: V,
  }),
  overrideHeader: setting.string({
    help: 'request header forcing a variant, e.g. x-dds-force-variant ("off": none; gate it with --override-secret-file)',
    metavar: 'NAME',
    default: 'off',
    group: V,
    schema: zHeaderOrOff,
  }),
  overrideCookie: setting.string({
    help: 'cookie forcing a variant, e.g. dds_force_variant ("off": none; gate it with --override-secret-file)',
    metavar: 'NAME',
    default: 'off',
    group: V,
    schema: zCookieOrOff,
  }),
  overrideSecretFile: setting.string({
    help: `HMAC key (at least ${OVERRIDE_SECRET_MIN} characters): overrides must then be VARIANT:SIGNATURE, signed per experiment and variant (see README)`,
    metavar: 'FILE',
    default: '',
    group: V,
    schema: zSecretFile(OVERRIDE_SECRET_MIN),
  }),
  guard: guardSettings,

  ...httpProxySettings,
  ...accessLogSettings,
};

export const flags = flagsOf(settings);

const zVariant = z.strictObject({
  name: zName,
  backend: zUpstreamUrl,
  /** percent of users; control's is the remainder when not given */
  weight: z.optional(z.number()),
});

const zExperiment = z.strictObject({
  name: zName,
  /** Host header values (without port) this experiment applies to; none = any host */
  hosts: z._default(z.array(z.string().check(z.minLength(1))), []),
  pathPrefix: z._default(z.string().check(z.startsWith('/')), '/'),
  salt: z.optional(z.string().check(z.minLength(1))),
  key: z.optional(zKeySource),
  control: z._default(zName, 'control'),
  fallbackToControl: z.optional(z.boolean()),
  guard: z.optional(z.partial(z.strictObject(guardFields))),
  variants: z
    .array(zVariant)
    .check(z.minLength(2, 'an experiment needs a control and at least one other variant'), z.maxLength(64)),
});

export type VariantConfig = z.infer<typeof zVariant>;
export type ExperimentConfig = z.infer<typeof zExperiment>;
export type GuardConfig = z.infer<typeof zGuard>;

export const schema = configSchema(settings, {
  ...adminTokenSchema,
  /** YAML only: several experiments (lists of objects do not fit flags) */
  experiments: z.optional(z.array(zExperiment)),
}).check(
  z.superRefine((c, ctx) => {
    const quick = c.control !== '' || c.experiment !== '';
    if (quick && c.experiments) {
      ctx.addIssue({
        code: 'custom',
        path: ['experiments'],
        message: 'use either --control/--experiment or experiments:, not both',
      });
      return;
    }
    if (!quick && !c.experiments?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['control'],
        message: 'give --control and --experiment, or experiments: in a config file',
      });
      return;
    }
    if (quick) {
      if (c.control === '')
        ctx.addIssue({ code: 'custom', path: ['control'], message: 'required with --experiment' });
      if (c.experiment === '')
        ctx.addIssue({ code: 'custom', path: ['experiment'], message: 'required with --control' });
      const err = weightError(c.percent, 1);
      if (err) ctx.addIssue({ code: 'custom', path: ['percent'], message: err });
      return;
    }
    const seen = new Set<string>();
    const routes = new Set<string>();
    c.experiments!.forEach((e, i) => {
      const at = (...p: (string | number)[]) => ['experiments', i, ...p];
      if (seen.has(e.name))
        ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate experiment "${e.name}"` });
      seen.add(e.name);
      for (const h of e.hosts.length ? e.hosts : ['*']) {
        const route = `${h.toLowerCase()} ${e.pathPrefix}`;
        if (routes.has(route))
          ctx.addIssue({
            code: 'custom',
            path: at('pathPrefix'),
            message: `another experiment already takes host ${h} and prefix ${e.pathPrefix}`,
          });
        routes.add(route);
      }
      validateVariants(e, at, ctx);
    });
  }),
);

/** Checks one experiment's variants and weights; every issue names its field. */
function validateVariants(
  e: ExperimentConfig,
  at: (...p: (string | number)[]) => (string | number)[],
  ctx: z.core.$RefinementCtx,
): void {
  const names = new Set<string>();
  e.variants.forEach((v, j) => {
    if (names.has(v.name))
      ctx.addIssue({
        code: 'custom',
        path: at('variants', j, 'name'),
        message: `duplicate variant "${v.name}"`,
      });
    names.add(v.name);
  });
  if (!names.has(e.control)) {
    ctx.addIssue({
      code: 'custom',
      path: at('control'),
      message: `unknown variant "${e.control}" (variants: ${[...names].join(', ')})`,
    });
    return;
  }
  const others = e.variants.filter((v) => v.name !== e.control).length;
  let sum = 0;
  let allZero = true;
  let controlWeight: number | undefined;
  e.variants.forEach((v, j) => {
    if (v.name === e.control) {
      controlWeight = v.weight;
      if (v.weight !== undefined && v.weight < 0)
        ctx.addIssue({ code: 'custom', path: at('variants', j, 'weight'), message: 'must not be negative' });
      if (v.weight !== 0 && v.weight !== undefined) allZero = false;
      return;
    }
    const w = v.weight ?? 0;
    const err = weightError(w, others);
    if (err) ctx.addIssue({ code: 'custom', path: at('variants', j, 'weight'), message: err });
    if (w > 0) allZero = false;
    sum += w;
  });
  if (controlWeight !== undefined && allZero) {
    ctx.addIssue({ code: 'custom', path: at('variants'), message: 'all weights are zero' });
  } else if (sum > 100 + 1e-9) {
    ctx.addIssue({
      code: 'custom',
      path: at('variants'),
      message: `weights sum to ${round(sum)}%, over 100%`,
    });
  } else if (controlWeight !== undefined && Math.abs(sum + controlWeight - 100) > 1e-9) {
    ctx.addIssue({
      code: 'custom',
      path: at('variants'),
      message: `weights sum to ${round(sum + controlWeight)}%; with control's weight given they must sum to 100% (or leave control's out: it gets the rest)`,
    });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** A non-control weight: 0..lane, in 0.01% steps. */
function weightError(w: number, others: number): string | undefined {
  if (!Number.isFinite(w)) return 'must be a number of percent';
  if (w < 0) return 'must not be negative';
  if (w > 100) return 'must be at most 100 (percent)';
  if (Math.abs(w * 100 - Math.round(w * 100)) > 1e-6) return 'use steps of 0.01 (percent)';
  const lane = laneSize(others);
  if (weightToBuckets(w) > lane)
    return `at most ${lane / 100}% per variant with ${others} non-control variants (each grows in its own lane so ramps stay sticky)`;
  return undefined;
}

export type SplitterConfig = z.infer<typeof schema> & CommonConfig & HttpProxyConfig & AccessLogConfig;

/** The experiments a config describes: quick-mode flags become one experiment. */
export function experimentsOf(c: SplitterConfig): ExperimentConfig[] {
  if (c.experiments) return c.experiments as ExperimentConfig[];
  return [
    {
      name: c.experimentName,
      hosts: [],
      pathPrefix: '/',
      salt: c.salt || undefined,
      control: 'control',
      variants: [
        { name: 'control', backend: c.control },
        { name: 'experiment', backend: c.experiment, weight: c.percent },
      ],
    },
  ];
}
