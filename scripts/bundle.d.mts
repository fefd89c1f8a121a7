/** Bundles one built entry (dist/*.js) into dir as the images ship it; returns esbuild's metafile. */
export function bundle(entry: string, dir: string): Promise<unknown>;
/** packages/<component>/dist/main.js */
export function entryOf(component: string): string;
