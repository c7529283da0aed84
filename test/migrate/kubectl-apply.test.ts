import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import type { KubeObject } from '../../apiserver/types.ts';
import { type KubectlHome, kubectlHome, runTool } from '../support/kubectl.ts';

/**
 * The output of `metalbeacon migrate` is what a user pipes into `kubectl apply`: checked here
 * with real kubectl 1.34 (strict field validation) against the embedded API server, which
 * enforces the CRD schemas. A migration that printed something kubectl refuses would fail.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let server: ApiServerHandle;
let tool: KubectlHome | undefined;

before(async () => {
  server = await startApiServer({ dualStack: true });
  tool = kubectlHome(server, 'metalbeacon-migrate-kubectl-');
  const crdDir = join(ROOT, 'config/crd');
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parseYaml(readFileSync(join(crdDir, f), 'utf8')) as KubeObject);
  const namespaces = ['metalbeacon-system', 'ingress-nginx', 'infra'].map(
    (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) as KubeObject,
  );
  server.applyObjects([...crds, ...namespaces]);
});
after(async () => {
  await server?.stop();
  tool?.remove();
});

function migrate(args: string[]): string {
  const r = spawnSync(join(ROOT, 'node_modules/.bin/node'), ['bin/metalbeacon.js', 'migrate', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return r.stdout;
}

describe('kubectl apply of the migrated configuration', () => {
  for (const [fixture, extra] of [
    ['crs.yaml', []],
    ['legacy-configmap.yaml', []],
    ['legacy-addresspool.yaml', []],
    ['services.yaml', ['--rewrite-services']],
  ] as const) {
    it(`${fixture}: every object is accepted with --validate=strict`, async () => {
      const yaml = migrate([...extra, `shared/migrate/fixtures/${fixture}`]);
      const expected = parseAllDocuments(yaml).map((d) => {
        const o = d.toJS() as { kind: string; metadata: { name: string } };
        return `${o.kind.toLowerCase()}/${o.metadata.name}`;
      });
      assert.ok(expected.length > 0);
      const r = await runTool('kubectl', ['apply', '--validate=strict', '-f', '-'], {
        ...tool!,
        input: yaml,
      });
      assert.equal(r.code, 0, r.stderr);
      const applied = r.stdout
        .trim()
        .split('\n')
        .map((line) =>
          line.replace(/\.metalbeacon\.io\//, '/').replace(/ (created|configured|unchanged)$/, ''),
        );
      assert.deepEqual(applied, expected);
    });
  }
});
