// Preloaded with `node --import` by startup-modules.integration.test.ts: records every module the process
// resolves (ESM imports, dynamic imports and CommonJS requires alike, through module.registerHooks)
// and writes the list to $DDS_MODULES_OUT the moment the process is serving (core's dds:started
// channel, published just before the "started" log line): what a component loads afterwards, on
// first use, is not part of its start.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const seen = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const r = nextResolve(specifier, context);
    seen.add(r.url);
    return r;
  },
});
subscribe('dds:started', () => {
  writeFileSync(process.env.DDS_MODULES_OUT, JSON.stringify([...seen]));
  process.stderr.write(`dds-module-recorder: wrote ${seen.size} modules\n`);
});
