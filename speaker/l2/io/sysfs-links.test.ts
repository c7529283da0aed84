import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLinks } from './sysfs-links.ts';

test('readLinks reads flags, operstate, MAC and master from a sysfs tree', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'sysfs-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const make = async (name: string, files: Record<string, string>, master = false) => {
    await mkdir(join(root, name));
    for (const [file, text] of Object.entries(files)) await writeFile(join(root, name, file), `${text}\n`);
    if (master) await mkdir(join(root, name, 'master'));
  };
  await make('eth0', {
    ifindex: '2',
    address: '02:AA:00:00:00:01',
    type: '1',
    flags: '0x1003',
    operstate: 'up',
  });
  await make('kube-ipvs0', {
    ifindex: '3',
    address: '02:aa:00:00:00:02',
    type: '1',
    flags: '0x82',
    operstate: 'down',
  });
  await make(
    'enp1',
    { ifindex: '4', address: '02:aa:00:00:00:03', type: '1', flags: '0x1003', operstate: 'up' },
    true,
  );
  assert.deepEqual(
    (await readLinks(root, (name) => name.startsWith('e'))).map((l) => l.name),
    ['enp1', 'eth0'],
    'names not wanted are not read',
  );
  const links = await readLinks(root);
  assert.deepEqual(links, [
    {
      name: 'enp1',
      ifindex: 4,
      mac: '02:aa:00:00:00:03',
      type: 1,
      up: true,
      running: true,
      loopback: false,
      noArp: false,
      enslaved: true,
    },
    {
      name: 'eth0',
      ifindex: 2,
      mac: '02:aa:00:00:00:01',
      type: 1,
      up: true,
      running: true,
      loopback: false,
      noArp: false,
      enslaved: false,
    },
    {
      name: 'kube-ipvs0',
      ifindex: 3,
      mac: '02:aa:00:00:00:02',
      type: 1,
      up: false,
      running: false,
      loopback: false,
      noArp: true,
      enslaved: false,
    },
  ]);
});
