import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../../shared/cli/errors.ts';
import { parsePrefixList } from './bgp.ts';

const cli = fileURLToPath(new URL('../metalbeacon.js', import.meta.url));
const base = [
  'bgp',
  '--local-as',
  '65001',
  '--peer',
  '127.0.0.1',
  '--peer-as',
  '65000',
  '--router-id',
  '192.0.2.10',
];

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('metalbeacon bgp', () => {
  it('reads announce lists and files: commas, whitespace, # comments', () => {
    assert.deepStrictEqual(parsePrefixList('198.51.100.0/24, 2001:db8:100::/120', '--announce'), [
      '198.51.100.0/24',
      '2001:db8:100::/120',
    ]);
    assert.deepStrictEqual(parsePrefixList('# pool\n198.51.100.1/32  # one\n\n2001:db8:100::/120\n', 'f'), [
      '198.51.100.1/32',
      '2001:db8:100::/120',
    ]);
  });

  it('names the file line of a bad prefix', () => {
    assert.throws(
      () => parsePrefixList('198.51.100.0/24\n198.51.100.1/24\n', 'announce.txt'),
      (e: unknown) =>
        e instanceof CliError &&
        /announce\.txt line 2: prefix "198\.51\.100\.1\/24": host bits/.test(e.message),
    );
  });

  for (const [args, message] of [
    [['--announce', '198.51.100.1/24'], /--announce: prefix "198\.51\.100\.1\/24": host bits are set/],
    [['--hold-time', '2'], /--hold-time: must be 0 or at least 3/],
    [['--community', '70000:1'], /--community: community "70000:1" is not "AS:VALUE"/],
    [['--large-community', '1:2'], /--large-community: large community "1:2"/],
    [['--next-hop', 'nowhere'], /--next-hop: "nowhere" is not an IP address/],
  ] as const) {
    it(`rejects ${args.join(' ')} with one line`, () => {
      const { status, stderr } = run([...base, ...args, '--listen-port', '0']);
      assert.equal(status, 1);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /\n\s+at /);
    });
  }

  it('rejects an unreadable announce file naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-bgp-cli-'));
    const missing = join(dir, 'missing.txt');
    const { status, stderr } = run([...base, '--announce-file', missing, '--listen-port', '0']);
    assert.equal(status, 1);
    assert.match(stderr, new RegExp(`--announce-file: cannot read ${missing}`));
    writeFileSync(join(dir, 'bad.txt'), 'not-a-prefix\n');
    const bad = run([...base, '--announce-file', join(dir, 'bad.txt'), '--listen-port', '0']);
    assert.match(bad.stderr, /bad\.txt line 1: prefix "not-a-prefix": missing "\/length"/);
    rmSync(dir, { recursive: true, force: true });
  });
});
