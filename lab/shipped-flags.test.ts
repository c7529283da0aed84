import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { SHIPPED_NODE_FLAGS } from './shipped-flags.ts';

interface Container {
  name: string;
  command?: string[];
  env?: { name: string; value?: string }[];
}

/** The V8 flags of the kustomize base's container `name`: command between node and the script, then NODE_OPTIONS. */
function kustomizeFlags(name: 'controller' | 'speaker'): string[] {
  const file = new URL(`../deploy/kustomize/default/${name}.yaml`, import.meta.url);
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as { spec?: { template?: { spec?: { containers?: Container[] } } } } | null;
    const container = obj?.spec?.template?.spec?.containers?.find((c) => c.name === name);
    if (!container?.command) continue;
    const [node, ...rest] = container.command;
    assert.equal(node, 'node', `${name}.yaml: the command starts with node`);
    const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    return [...rest.slice(0, -1), ...options.split(' ').filter((f) => f !== '')];
  }
  throw new Error(`deploy/kustomize/default/${name}.yaml: no container ${name} with a command`);
}

test('the flags labs use "as shipped" are the ones deploy/ puts on each daemon', () => {
  assert.deepEqual(kustomizeFlags('speaker'), SHIPPED_NODE_FLAGS.speaker);
  assert.deepEqual(kustomizeFlags('controller'), SHIPPED_NODE_FLAGS.controller);
});
