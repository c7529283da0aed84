import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kubeconfigWith } from '../shared/k8s/test-helpers.ts';

// What the speaker's modules load into a fresh process: Node's bundled undici (pulled in by an
// ESM import of node:http) and the YAML parser cost heap the daemon never uses (README,
// Performance: Memory).
const root = new URL('../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'mb-imports-'));
after(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(join(dir, 'config.json'), JSON.stringify(kubeconfigWith('http://127.0.0.1:1')));
writeFileSync(
  join(dir, 'config.yaml'),
  'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
);

/** Imports the speaker's modules, loads KUBECONFIG, then runs `extra`; reports what got loaded. */
function loaded(kubeconfig: string, extra = ''): { undici: boolean; yaml: boolean } {
  const script = `
    import Module from 'node:module';
    await import(${JSON.stringify(new URL('bin/program.ts', root).href)});
    await import(${JSON.stringify(new URL('speaker/shell/speaker.ts', root).href)});
    await import(${JSON.stringify(new URL('speaker/announce/plan.ts', root).href)});
    await import(${JSON.stringify(new URL('shared/k8s/reachability.ts', root).href)});
    const { loadKubeClient } = await import(${JSON.stringify(new URL('shared/k8s/kubeconfig.ts', root).href)});
    await loadKubeClient(${JSON.stringify(kubeconfig)}, {});
    ${extra}
    console.log(JSON.stringify({
      undici: process.moduleLoadList.some((m) => m.includes('undici')),
      yaml: Object.keys(Module._cache).some((f) => f.includes('/node_modules/yaml/')),
    }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) as string);
}

describe('the speaker program', () => {
  it('loads neither undici nor the YAML parser with a JSON kubeconfig', () => {
    assert.deepEqual(loaded(join(dir, 'config.json')), { undici: false, yaml: false });
  });

  it('loads the YAML parser only for a YAML kubeconfig, and an ESM import of node:http pulls undici', () => {
    // The other side of the same probe: it does see both when they are loaded.
    assert.deepEqual(loaded(join(dir, 'config.yaml'), "await import('node:http');"), {
      undici: true,
      yaml: true,
    });
  });
});
