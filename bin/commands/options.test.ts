import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CliError } from '../../shared/cli/errors.ts';
import { Registry } from '../../shared/metrics/metrics.ts';
import { listenFailure, listenOption, regexOption, serveMetricsOption } from './options.ts';

const cli = fileURLToPath(new URL('../metalbeacon.js', import.meta.url));

describe('HOST:PORT options', () => {
  it('can require a host, so that nothing listens on every address by accident', () => {
    assert.deepEqual(listenOption('--listen', '127.0.0.1:0', { hostRequired: true }), {
      host: '127.0.0.1',
      port: 0,
    });
    assert.deepEqual(listenOption('--metrics-listen', ':7472'), { host: undefined, port: 7472 });
    assert.throws(() => listenOption('--listen', ':6443', { hostRequired: true }), {
      name: 'CliError',
      message: '--listen: ":6443" names no host',
      hint: 'e.g. --listen 127.0.0.1:6443',
    });
  });

  it('parse with the shared parser, or fail naming the flag and the text', () => {
    assert.deepEqual(listenOption('--metrics-listen', '[::1]:7472'), { host: '::1', port: 7472 });
    assert.throws(() => listenOption('--metrics-listen', '127.0.0.1:70000'), {
      name: 'CliError',
      message: '--metrics-listen: "127.0.0.1:70000" is not HOST:PORT: port 70000 is out of range 0..65535',
      hint: /\[::1\]/,
    });
  });

  it('turn a refused listen into one line naming flag, address and code; other errors stay', () => {
    const taken = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const failure = listenFailure('--metrics-listen', '127.0.0.1:7472', taken);
    assert.ok(failure instanceof CliError);
    assert.equal(failure.message, 'cannot listen on --metrics-listen 127.0.0.1:7472: EADDRINUSE');
    assert.equal(listenFailure('--metrics-listen', 'x', new Error('bug')), undefined);
    assert.equal(listenFailure('--metrics-listen', 'x', undefined), undefined);
  });

  it('every program refuses a bad --metrics-listen before it starts anything', () => {
    const programs: [string, string[]][] = [
      ['controller', []],
      ['speaker', ['--node-name', 'node-a']],
      ['l2', ['--announce', '198.51.100.7']],
      [
        'bgp',
        ['--local-as', '65001', '--peer', '192.0.2.1', '--peer-as', '65002', '--router-id', '192.0.2.9'],
      ],
    ];
    for (const [command, args] of programs) {
      const result = spawnSync(
        process.execPath,
        [cli, '--kubeconfig', '/nonexistent/kubeconfig', command, ...args, '--metrics-listen', '::1:7472'],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(result.status, 1, `${command}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /^error: --metrics-listen: "::1:7472" is not HOST:PORT: an IPv6 address needs brackets, as in \[::1\]:7472\nhint: /,
        command,
      );
    }
  });
});

describe('regular expression options', () => {
  it('compile, stay unset when not given, and name the flag when invalid', () => {
    assert.equal(regexOption('--exclude-interfaces', undefined), undefined);
    assert.ok(regexOption('--exclude-interfaces', '^veth')?.test('veth0'));
    assert.throws(() => regexOption('--exclude-interfaces', '('), {
      name: 'CliError',
      message: /^--exclude-interfaces: .*Unterminated group/,
    });
  });
});

describe('the endpoints of bgp and l2 (--metrics-listen)', () => {
  it('serve on the parsed address; a taken address is one line naming flag, address and code', async () => {
    const log = pino({ level: 'silent' });
    const first = await serveMetricsOption({ host: '127.0.0.1', port: 0 }, new Registry(), log);
    try {
      assert.equal((await fetch(`http://${first.address}/healthz`)).status, 200);
      const port = Number(first.address.split(':')[1]);
      await assert.rejects(serveMetricsOption({ host: '127.0.0.1', port }, new Registry(), log), {
        name: 'CliError',
        message: `cannot listen on --metrics-listen 127.0.0.1:${port}: EADDRINUSE`,
      });
    } finally {
      await first.close();
    }
  });
});
