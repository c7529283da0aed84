import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

// `metalbeacon l2` rejects bad input with one line naming the option and the value,
// before touching the network.
const CLI = new URL('../../bin/metalbeacon.js', import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('bad addresses, listen addresses, patterns and numbers are named in one line', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['l2', '--announce', '198.51.100.300'],
      /^error: --announce: "198\.51\.100\.300" is not an IPv4 or IPv6 address$/m,
    ],
    [
      ['l2', '--announce', '198.51.100.7', '--metrics-listen', 'nowhere'],
      /^error: --metrics-listen: "nowhere" is not HOST:PORT$/m,
    ],
    [['l2', '--announce', '198.51.100.7', '--exclude-interfaces', '('], /^error: --exclude-interfaces: /m],
    [
      ['l2', '--announce', '198.51.100.7', '--burst-count', 'many'],
      /^error: --burst-count: "many" is not a number >= 1$/m,
    ],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await run(args);
    assert.equal(code, 1, stderr);
    assert.match(stderr, expected);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--announce is required', async () => {
  const { code, stderr } = await run(['l2']);
  assert.equal(code, 2);
  assert.match(stderr, /required option '--announce <ips>'/);
});
