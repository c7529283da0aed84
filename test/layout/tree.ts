/**
 * Reading the source tree for the layout fitness tests: which files there are, what each one
 * refers to (imports, and files it runs through `new URL(..., import.meta.url)`), and which
 * folders are pure cores (biome.jsonc says, by folder name).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, with a trailing slash. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Writes a small tree of files (path relative to `root` → text), for the tests' samples. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

const SKIPPED = new Set(['node_modules', 'dist', 'build', '.git']);
const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;

/** Every source file below `root` (build output and dependencies left out), relative, sorted. */
export function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (SOURCE.test(entry.name)) found.push(relative(root, path));
    }
  };
  walk(root);
  return found.sort();
}

/**
 * Source text with comment lines blanked (lines starting with `//`, `/*` or `*`, and a `//`
 * comment after code), line numbers kept: prose that names an API is not a use of it.
 */
export function withoutComments(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^\s*(?:\/\/|\/\*|\*)/.test(line) ? '' : line.replace(/\s\/\/.*$/, '')))
    .join('\n');
}

const REFERENCES = [
  /\bfrom\s*['"]([^'"]+)['"]/g, // import ... from, export ... from
  /\bimport\s*['"]([^'"]+)['"]/g, // import 'x' (side effects only)
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('x')
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // require('x')
  /\bnew\s+URL\s*\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g, // a file it runs or reads
] as const;

/** The modules and files a source text refers to, as written. */
export function referencesOf(text: string): string[] {
  return REFERENCES.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1] as string));
}

/** A relative reference from one file to another, with the top-level folders of both. */
export interface PartReference {
  file: string;
  reference: string;
  /** Top-level folder of the file (`speaker`, `test`, ...). */
  from: string;
  /** Top-level folder of what it refers to. */
  to: string;
  /**
   * Whether it refers to a source file that exists (code), not to data (manifests,
   * package.json, a folder) or to text that only looks like an import (a test's sample).
   */
  code: boolean;
}

/** Every relative import (or file run) between source files below `root`. */
export function partReferences(root: string): PartReference[] {
  const found: PartReference[] = [];
  for (const file of sourceFiles(root)) {
    for (const reference of referencesOf(readFileSync(join(root, file), 'utf8'))) {
      if (!reference.startsWith('.')) continue;
      const target = normalize(join(dirname(file), reference));
      found.push({
        file,
        reference,
        from: topFolder(file),
        to: topFolder(target),
        code: SOURCE.test(target) && existsSync(join(root, target)),
      });
    }
  }
  return found;
}

/** Files outside `test/` that import (or run) anything inside `test/`. */
export function referencesIntoTest(root: string): PartReference[] {
  return partReferences(root).filter((r) => r.to === 'test' && r.from !== 'test');
}

function topFolder(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : '.';
}

/** The pure-folder rule of biome.jsonc: the top folders it applies in and the folder names. */
export interface PureFolders {
  roots: string[];
  names: string[];
}

/**
 * Reads the pure-folder override of biome.jsonc, the one whose includes is
 * `{ROOT,...}/**\/{NAME,...}/**` (the single place the folder names are listed).
 */
export function pureFolders(configText: string): PureFolders {
  const config = JSON.parse(configText.replace(/^\s*\/\/.*$/gm, '')) as {
    overrides?: { includes?: string[] }[];
  };
  for (const override of config.overrides ?? []) {
    for (const glob of override.includes ?? []) {
      const m = /^\{([^}]+)\}\/\*\*\/\{([^}]+)\}\/\*\*$/.exec(glob);
      if (m) return { roots: m[1]!.split(','), names: m[2]!.split(',') };
    }
  }
  throw new Error('biome.jsonc: no override with includes "{ROOT,...}/**/{NAME,...}/**"');
}

/** True when `file` (relative to the repository) lies in a pure folder. */
export function inPureFolder(file: string, pure: PureFolders): boolean {
  const parts = file.split('/');
  return pure.roots.includes(parts[0] ?? '') && parts.slice(1, -1).some((part) => pure.names.includes(part));
}

/** What reads the clock or draws randomness, which Biome's rules cannot name. */
const CLOCK_OR_RANDOM =
  /\bDate\.now\s*\(|\bnew\s+Date\s*\(\s*\)|\bMath\.random\s*\(|\b(?:randomBytes|randomInt|randomUUID|randomFillSync|getRandomValues)\s*\(/;

/** A line of a pure folder that reads the clock or draws randomness. */
export interface ClockUse {
  file: string;
  line: number;
  text: string;
}

/** Every line in the pure folders below `root` that reads the clock or draws randomness. */
export function clockOrRandomUses(root: string, pure: PureFolders): ClockUse[] {
  const found: ClockUse[] = [];
  for (const file of sourceFiles(root)) {
    if (!inPureFolder(file, pure)) continue;
    const lines = withoutComments(readFileSync(join(root, file), 'utf8')).split('\n');
    lines.forEach((text, i) => {
      if (CLOCK_OR_RANDOM.test(text)) found.push({ file, line: i + 1, text: text.trim() });
    });
  }
  return found;
}
