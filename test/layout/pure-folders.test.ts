import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../support/temp-dir.ts';
import { clockOrRandomUses, inPureFolder, pureFolders, REPO, sourceFiles, writeTree } from './tree.ts';

// Pure cores take time and randomness as parameters and do no I/O (STYLE.md, Layout).
// biome.jsonc holds the rule, by folder name; this file checks what Biome cannot express
// (reading the clock, drawing random numbers) and that the Biome rule bites where it should.

const run = promisify(execFile);
const CONFIG = join(REPO, 'biome.jsonc');
const pure = pureFolders(readFileSync(CONFIG, 'utf8'));
const scratch = tempDir('mb-pure-');

/** Folders below controller/, speaker/ and shared/ (relative paths). */
function productFolders(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'fixtures') continue;
      found.push(`${dir}/${entry.name}`);
      walk(`${dir}/${entry.name}`);
    }
  };
  for (const root of pure.roots) walk(root);
  return found;
}

// One line each: what a pure folder must not import or use. Every line must be reported.
const FORBIDDEN = [
  "import { readFileSync } from 'node:fs';",
  "import { readFile } from 'node:fs/promises';",
  "import { createServer } from 'node:net';",
  "import { createSocket } from 'node:dgram';",
  "import { request } from 'node:http';",
  "import { request as tls } from 'node:https';",
  "import { spawn } from 'node:child_process';",
  "import { Worker } from 'node:worker_threads';",
  "import { setTimeout as sleep } from 'node:timers/promises';",
  "import { setInterval as every } from 'node:timers';",
  "import { performance as perf } from 'node:perf_hooks';",
  "import { lookup } from 'node:dns';",
  "import { randomBytes } from 'node:crypto';",
  "import { existsSync } from 'fs';",
  "import { KubeConfig } from '@kubernetes/client-node';",
  "import { startSpeaker } from '../../shell/speaker.ts';",
  "import { KubeClient } from '../../../shared/k8s/client.ts';",
  'export const t = setTimeout(() => undefined, 1);',
  'export const i = setInterval(() => undefined, 1);',
  'export const m = performance.now();',
  'export const e = process.env.HOME;',
  "export const f = fetch('http://192.0.2.1/');",
  'export const u = crypto.randomUUID();',
];
// What a pure folder may use: nothing here may be reported.
const ALLOWED = [
  "import assert from 'node:assert/strict';",
  "import { createHash } from 'node:crypto';",
  "import { inspect } from 'node:util';",
  "import { decodeFrame } from '../frames/frame.ts';",
  "export const h = createHash('sha256').update(inspect(assert)).digest('hex');",
  "export const d = Date.parse('2026-01-01T00:00:00Z') + decodeFrame.length;",
];
const GUARD = /^lint\/style\/(?:noRestrictedImports|noRestrictedGlobals|useNodejsImportProtocol)$/;

/** Biome's errors of the pure-folder guard in `root`: file → the lines it reported. */
async function guardFindings(root: string): Promise<Map<string, number[]>> {
  copyFileSync(CONFIG, join(root, 'biome.jsonc'));
  const biome = join(REPO, 'node_modules/.bin/biome');
  const { stdout } = await run(biome, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const report = JSON.parse(stdout) as {
    diagnostics: {
      severity?: string;
      category?: string;
      location?: { path?: string; start?: { line: number } };
    }[];
  };
  const lines = new Map<string, number[]>();
  for (const d of report.diagnostics) {
    if (d.severity !== 'error' || !GUARD.test(d.category ?? '')) continue;
    if (!d.location?.path || !d.location.start) continue;
    const path = d.location.path.replace(/^\.\//, '');
    lines.set(path, [...(lines.get(path) ?? []), d.location.start.line]);
  }
  for (const [path, found] of lines)
    lines.set(
      path,
      [...new Set(found)].sort((a, b) => a - b),
    );
  return lines;
}

describe('pure folders', () => {
  it('the rule names folders that exist: each pure name matches folders, each match holds code', () => {
    const matched = productFolders().filter((dir) => inPureFolder(`${dir}/x.ts`, pure));
    for (const known of [
      'controller/allocator',
      'speaker/bgp/codec',
      'speaker/bgp/fsm',
      'speaker/l2/responder',
    ]) {
      assert.ok(matched.includes(known), `${known} is not covered by the pure-folder rule`);
    }
    const files = sourceFiles(REPO).filter((file) => inPureFolder(file, pure));
    assert.ok(files.length > 50, `only ${files.length} files in pure folders`);
  });

  it('no pure folder reads the clock or draws random numbers', () => {
    assert.deepEqual(clockOrRandomUses(REPO, pure), []);
  });

  it('the scan finds Date.now(), new Date(), Math.random() and randomBytes(); not prose, Date.parse or a shell', () => {
    const root = join(scratch, 'clock');
    writeTree(root, {
      'speaker/bgp/fsm/a.ts': 'export const a = Date.now();\nexport const b = new Date();\n',
      'speaker/membership/protocol/b.ts': 'export const c = Math.random() + Date.parse("2026-01-01");\n',
      'controller/allocator/c.ts':
        "import * as nodeCrypto from 'node:crypto';\n// Not Date.now(): time is a parameter.\nexport const d = nodeCrypto.randomBytes(4);\n",
      'speaker/shell/d.ts': 'export const e = Date.now();\n',
      'test/fsm/e.ts': 'export const f = Math.random();\n',
    });
    assert.deepEqual(
      clockOrRandomUses(root, pure).map((u) => `${u.file}:${u.line}`),
      [
        'controller/allocator/c.ts:3',
        'speaker/bgp/fsm/a.ts:1',
        'speaker/bgp/fsm/a.ts:2',
        'speaker/membership/protocol/b.ts:1',
      ],
    );
  });

  it('Biome refuses I/O modules, timers, the clock and the API client in every pure folder name, not in a shell', async () => {
    const root = join(scratch, 'biome');
    const files: Record<string, string> = {
      'speaker/shell/probe.ts': `${FORBIDDEN.join('\n')}\n`,
      'speaker/l2/codec/allowed.ts': `${ALLOWED.join('\n')}\n`,
    };
    for (const name of pure.names)
      files[`${pure.roots[1]}/part/${name}/probe.ts`] = `${FORBIDDEN.join('\n')}\n`;
    files['shared/config/probe.ts'] = `${FORBIDDEN.join('\n')}\n`;
    writeTree(root, files);
    const findings = await guardFindings(root);
    const every = FORBIDDEN.map((_, i) => i + 1);
    for (const path of Object.keys(files)) {
      if (path.startsWith('speaker/shell/') || path.endsWith('/allowed.ts')) {
        assert.deepEqual(findings.get(path), undefined, `${path} is not a pure folder's forbidden code`);
      } else {
        assert.deepEqual(findings.get(path), every, `${path}: lines the guard let through`);
      }
    }
  });
});
