import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * The schema library every dds config is written in, from one place: zod's functional API
 * (`zod/mini`). It validates exactly as zod's classic API, with the same English messages (set
 * here, once), but it is tree-shaken to what a component uses and costs about 0.4 MB of RSS where
 * the classic API cost about 7.6 MB (packages/core/README.md, Footprint). Import it as
 * `import * as z from '@dds/core/config/zod'`.
 */
config(en());

export * from 'zod/mini';
