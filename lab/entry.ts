import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/**
 * The `metalbeacon` entry tests and benchmarks start: the sources (`bin/metalbeacon.js`), or
 * what `METALBEACON_ENTRY` names relative to the repository — the benchmarks set it to the
 * bundle the image runs (`dist/metalbeacon.mjs`, `npm run build`), so they measure what ships.
 */
export function metalbeaconEntry(): string {
  const entry = process.env.METALBEACON_ENTRY;
  if (!entry) return `${REPO}bin/metalbeacon.js`;
  return entry.startsWith('/') ? entry : `${REPO}${entry}`;
}
