/**
 * Reading the decision records and the references to docs/ for the layout fitness tests: ADRs
 * are numbered once each, titled with their number and carry a status, and every path into
 * docs/ that the README, the docs or a source comment names exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceFiles } from './tree.ts';

const ADR_FILE = /^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$/;
const STATUS = /^Status: (?:proposed|accepted|superseded by ADR \d{4}|deprecated)\b/m;

/** What is wrong with the ADRs in `root`/docs/adr, one line each; empty when nothing is. */
export function adrProblems(root: string): string[] {
  const dir = join(root, 'docs', 'adr');
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    const m = ADR_FILE.exec(name);
    if (!m) {
      problems.push(`docs/adr/${name}: not named NNNN-words.md`);
      continue;
    }
    const number = m[1] as string;
    const earlier = owners.get(number);
    if (earlier) problems.push(`docs/adr/${name}: number ${number} is already ${earlier}'s`);
    owners.set(number, name);
    const text = readFileSync(join(dir, name), 'utf8');
    if (!text.startsWith(`# ADR ${number}: `))
      problems.push(`docs/adr/${name}: title is not "# ADR ${number}: ..."`);
    if (!STATUS.test(text)) {
      problems.push(
        `docs/adr/${name}: no "Status: proposed|accepted|superseded by ADR NNNN|deprecated" line`,
      );
    }
  }
  return problems;
}

const DOCS_PATH = /\bdocs\/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b/g;

/**
 * Paths into docs/ that markdown files and source files below `root` name but that do not
 * exist (the layout tests themselves left out: their samples name such paths on purpose).
 */
export function brokenDocReferences(root: string): string[] {
  const files = [...sourceFiles(root), ...markdownFiles(root)].filter((f) => !f.startsWith('test/layout/'));
  const broken: string[] = [];
  for (const file of files) {
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(DOCS_PATH)) {
      if (!existsSync(join(root, m[0]))) broken.push(`${file}: ${m[0]}`);
    }
  }
  return broken;
}

function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === '.git' || entry.name === 'dist') continue;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk(root, '');
  return found;
}
