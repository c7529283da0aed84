import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../../shared/cli/errors.ts';
import { parsePrefixList, readPasswordFile } from './bgp.ts';

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
    [['--bfd-receive-interval', '300'], /--bfd-receive-interval needs --bfd/],
    [['--bfd', '--bfd-detect-multiplier', '1'], /--bfd-detect-multiplier: "1" is not an integer 2\.\.255/],
    [['--bfd', '--bfd-transmit-interval', '5'], /--bfd-transmit-interval: "5" is not an integer 10\.\.60000/],
    [['--bfd', '--bfd-minimum-ttl', '255'], /--bfd-minimum-ttl: "255" is not an integer 1\.\.254/],
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

  it('refuses --password (argv is public) and points at --password-file', () => {
    const { status, stderr } = run([...base, '--password', 'sesame', '--listen-port', '0']);
    assert.equal(status, 1);
    assert.match(
      stderr,
      /--password is not accepted: a password on the command line is visible to every local user/,
    );
    assert.match(stderr, /--password-file FILE/);
  });

  it('reads --password-file: one trailing newline dropped; empty, multi-line or missing files are errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-bgp-password-'));
    try {
      const file = (name: string, text: string, mode = 0o600) => {
        const path = join(dir, name);
        writeFileSync(path, text, { mode });
        return path;
      };
      assert.equal(await readPasswordFile(file('a', 'se same\n')), 'se same');
      assert.equal(await readPasswordFile(file('b', 'crlf\r\n')), 'crlf');
      assert.equal(await readPasswordFile(file('c', 'no-newline')), 'no-newline');
      await assert.rejects(readPasswordFile(file('d', '\n')), /--password-file: .*d is empty/);
      await assert.rejects(readPasswordFile(file('e', 'one\ntwo\n')), /more than one line/);
      await assert.rejects(readPasswordFile(join(dir, 'missing')), /--password-file: cannot read .*missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns when others may read the password file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-bgp-password-'));
    try {
      const path = join(dir, 'open');
      writeFileSync(path, 'sesame\n', { mode: 0o644 });
      // An announce file that fails to parse ends the run right after the password is read.
      writeFileSync(join(dir, 'bad.txt'), 'not-a-prefix\n');
      const { stderr } = run([
        ...base,
        '--password-file',
        path,
        '--announce-file',
        join(dir, 'bad.txt'),
        '--listen-port',
        '0',
      ]);
      assert.match(
        stderr,
        /warning: --password-file .*open is readable by others \(mode 644\); chmod 600 it/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
