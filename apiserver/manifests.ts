import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './types.ts';

/** A manifest file that cannot be used, with the file (and document) named. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/**
 * Reads YAML/JSON manifests from files and directories (not recursive, sorted by name, as
 * `kubectl apply -f DIR` does): multi-document files and `kind: List` are expanded.
 */
export function readManifests(paths: string[]): KubeObject[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new ManifestError(`manifest path ${path} does not exist`);
    }
    if (isDir) {
      for (const name of readdirSync(path).sort()) {
        if (/\.(ya?ml|json)$/.test(name)) files.push(join(path, name));
      }
    } else files.push(path);
  }
  const objects: KubeObject[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
      if (doc.errors.length > 0) {
        throw new ManifestError(`${file}: document ${i + 1} is not valid YAML: ${doc.errors[0]?.message}`);
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) continue;
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new ManifestError(`${file}: document ${i + 1} is not an object`);
      }
      const obj = value as KubeObject & { items?: KubeObject[] };
      if (obj.kind === 'List' && Array.isArray(obj.items)) objects.push(...obj.items);
      else {
        if (!obj.apiVersion || !obj.kind) {
          throw new ManifestError(`${file}: document ${i + 1} has no apiVersion or kind`);
        }
        objects.push(obj);
      }
    }
  }
  return objects;
}
