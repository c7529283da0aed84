/**
 * A file found relative to the calling module, in the source tree or in the bundle.
 *
 * The sources run as TypeScript (`bin/metalbeacon.js`); the image runs the esbuild bundle
 * (`dist/metalbeacon.mjs` and its chunks, all in dist/, scripts/build.ts), where a module's
 * `import.meta.url` is that of the bundle file it was put in. Callers name both places:
 * `entryUrl(import.meta.url, './entry.ts', './speaker-worker.mjs')`.
 */
export function entryUrl(metaUrl: string, fromSource: string, fromBundle: string): URL {
  return new URL(isBundled(metaUrl) ? fromBundle : fromSource, metaUrl);
}

/** Whether the module at `metaUrl` runs from the bundle (the sources are all `.ts`). */
export function isBundled(metaUrl: string): boolean {
  return metaUrl.endsWith('.mjs');
}
