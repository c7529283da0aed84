// biome-ignore lint/style/noRestrictedImports: the tests read our CRDs; the code under test does no I/O
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { CrdLike } from '../api/crd-validation.ts';
import { compileValidators } from './migrate.ts';
import type { SourceDocument } from './parse.ts';
import type { MigrationResult } from './types.ts';

const CRD_DIR = new URL('../../config/crd/', import.meta.url);

/** Our CRDs, as config/crd ships them. */
export const CRDS: readonly CrdLike[] = readdirSync(CRD_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parseYaml(readFileSync(new URL(f, CRD_DIR), 'utf8')) as CrdLike);

/** The validators of our CRDs, compiled once for all the tests of a file. */
export const VALIDATORS = compileValidators(CRDS);

/**
 * The input documents the result leaves without a trace: neither converted, listed, skipped nor
 * reported (only Services it leaves unchanged may be). A legacy ConfigMap's entries count for the
 * ConfigMap; a List's items count one by one.
 */
export function untracedDocuments(
  docs: readonly SourceDocument[],
  result: MigrationResult,
): SourceDocument[] {
  const key = (document: number, entry: string | undefined) =>
    `${document} ${entry?.startsWith('items[') ? entry : ''}`;
  const seen = new Set(
    [...result.objects, ...result.services, ...result.unconverted, ...result.skipped].map((x) =>
      key(x.from.document, x.from.entry),
    ),
  );
  return docs.filter((d) => !seen.has(key(d.document, d.entry)));
}
