import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { makeServingCertificates } from '../../apiserver/certificates.ts';
import { readManifests } from '../../apiserver/manifests.ts';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import type { KubeObject } from '../../apiserver/types.ts';
import {
  ingressServiceObjects,
  membershipSecretObject,
  nodeObject,
  speakerPodObject,
} from '../../lab/objects.ts';
import { REPO_ROOT } from '../../scripts/sync-config.ts';
import { ApiError, KubeClient } from '../../shared/k8s/client.ts';
import { inClusterConnection } from '../../shared/k8s/connection.ts';
import { ensureApiServerReachable } from '../../shared/k8s/reachability.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { freePort } from '../support/free-port.ts';

/**
 * The programs talk to the embedded API server as in a real install: HTTPS with the server's
 * own CA, a bearer token per ServiceAccount from an in-cluster mount, the install's RBAC
 * enforced. Loopback only, ports chosen by the kernel: no namespaces, no fixed ports.
 */

const NS = 'metalbeacon-system';
const BIN = join(REPO_ROOT, 'bin/metalbeacon.js');
const run = promisify(execFile);
const NODE = { name: 'node-a', ipv4: '127.0.0.1', ipv6: '::1' };

let server: ApiServerHandle;
let home: string;
/** Statuses the server answered, in order (the HTTPS listener's 401s among them). */
const statuses: number[] = [];

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'mb-tls-'));
  server = await startApiServer({
    https: {},
    onRequest: (_method, _path, status) => void statuses.push(status),
  });
  server.applyObjects(readManifests([join(REPO_ROOT, 'config/crd'), join(REPO_ROOT, 'config/rbac')]));
});

after(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The environment a Pod of the install would get, with the mount at `dir`. */
function podEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBERNETES_SERVICE_HOST: server.https!.host,
    KUBERNETES_SERVICE_PORT: String(server.https!.port),
    METALBEACON_SERVICE_ACCOUNT_DIR: dir,
    KUBECONFIG: '',
  };
}

function mount(name: string, account: string): string {
  const dir = join(home, name);
  server.writeServiceAccountMount(dir, NS, account);
  return dir;
}

/** Runs `body` with a client reading a fresh speaker mount `name` (returned as `dir`), then closes it. */
async function withMountClient(
  name: string,
  body: (client: KubeClient, dir: string) => Promise<void>,
  /** Changes the mount before the client reads it. */
  alter?: (dir: string) => void,
): Promise<void> {
  const dir = mount(name, 'speaker');
  alter?.(dir);
  const client = new KubeClient(inClusterConnection(podEnv(dir)));
  try {
    await body(client, dir);
  } finally {
    client.close();
  }
}

describe('KubeClient over the in-cluster connection', () => {
  it('authenticates as the ServiceAccount: RBAC allows what its Role grants and refuses the rest', async () => {
    const client = new KubeClient(inClusterConnection(podEnv(mount('reader', 'speaker'))));
    try {
      await client.list(`/apis/metalbeacon.io/v1beta1/namespaces/${NS}/ipaddresspools`);
      await assert.rejects(client.list('/api/v1/namespaces/kube-system/secrets'), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.code, 403);
        assert.match(error.message, /system:serviceaccount:metalbeacon-system:speaker/);
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('refuses a request without a token on the HTTPS listener', async () => {
    const client = new KubeClient({
      server: new URL(server.https!.url),
      tls: { ca: Buffer.from(server.https!.caPem), rejectUnauthorized: true },
      headers: async () => ({}),
    });
    try {
      await assert.rejects(client.get('/version'), { message: /HTTP 401: Unauthorized: no bearer token/ });
    } finally {
      client.close();
    }
  });

  it('takes up a rotated token when the old one is revoked, without a failed call', () =>
    withMountClient('rotated', async (client, dir) => {
      await client.list(`/api/v1/namespaces/${NS}/pods`);
      const before401 = statuses.filter((s) => s === 401).length;
      server.rotateServiceAccountToken(dir);
      await client.list(`/api/v1/namespaces/${NS}/pods`);
      // The old token was sent once, refused, and the request repeated with the new one.
      assert.equal(statuses.filter((s) => s === 401).length, before401 + 1);
      await client.list(`/api/v1/namespaces/${NS}/pods`);
      assert.equal(statuses.filter((s) => s === 401).length, before401 + 1);
    }));

  it('names the CA file when the server certificate is not signed by it', () =>
    withMountClient(
      'wrong-ca',
      async (client, dir) => {
        await assert.rejects(ensureApiServerReachable(client), {
          message: `cannot trust the Kubernetes API server at ${server.https!.url}: TLS: the certificate of the API server at ${server.https!.url} is not signed by ${dir}/ca.crt [CERT_SIGNATURE_FAILURE]`,
        });
      },
      (dir) => writeFileSync(join(dir, 'ca.crt'), makeServingCertificates(['127.0.0.1']).caPem),
    ));

  it('names the token file when the token is wrong or revoked', () =>
    withMountClient('revoked', async (client, dir) => {
      await ensureApiServerReachable(client);
      server.revokeToken((await client.connection.headers()).authorization!.slice('Bearer '.length));
      const expected = (why: string) =>
        `refused by the Kubernetes API server at ${server.https!.url}: GET /version: HTTP 401: Unauthorized: ${why} (the bearer token from ${dir}/token is wrong, expired or revoked)`;
      await assert.rejects(ensureApiServerReachable(client), {
        message: expected('the bearer token was revoked'),
      });
      writeFileSync(join(dir, 'token'), 'forged');
      await assert.rejects(ensureApiServerReachable(client), {
        message: expected('the bearer token is not one this server issued'),
      });
    }));
});

/** Sends `bytes` on a fresh TCP (or TLS, trusting the server's CA) connection; everything answered until it closed. */
function exchange(port: number, bytes: string | Buffer, how: { tls?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = how.tls
      ? tlsConnect({ host: '127.0.0.1', port, ca: server.https!.caPem }, () => socket.write(bytes))
      : connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received)));
  });
}

describe('the HTTPS listener and what is not a TLS client with a token', () => {
  const version = async () => {
    const client = new KubeClient(inClusterConnection(podEnv(mount('still-serving', 'speaker'))));
    try {
      return await ensureApiServerReachable(client);
    } finally {
      client.close();
    }
  };
  const refusals = () => ({ ...server.https!.refusals });

  it('answers plain HTTP with a 400 that says so, and goes on serving', async () => {
    const before = refusals();
    const answer = await exchange(server.https!.port, 'GET /version HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(answer.toString(), /^HTTP\/1\.0 400 Bad Request\r\n/);
    assert.match(answer.toString(), /\r\n\r\nClient sent an HTTP request to an HTTPS server\.\n$/);
    const viaFetch = await fetch(`http://127.0.0.1:${server.https!.port}/api`);
    assert.equal(viaFetch.status, 400);
    assert.deepEqual(refusals(), { ...before, plainHttp: before.plainHttp + 2 });
    assert.match(await version(), /^v1\./);
  });

  it('answers bytes that are neither TLS nor HTTP with a fatal TLS alert, and a bad handshake is counted', async () => {
    const before = refusals();
    const alert = await exchange(
      server.https!.port,
      Buffer.from('\x00\x01garbage\xff\xfe\r\n\r\n', 'latin1'),
    );
    // A TLS alert record: fatal, unexpected_message.
    assert.deepEqual([...alert], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);
    // A handshake record whose body is garbage goes to TLS, which refuses it.
    const handshake = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20]), Buffer.alloc(32, 0xee)]);
    await exchange(server.https!.port, handshake);
    assert.deepEqual(refusals(), { ...before, notTls: before.notTls + 1, handshake: before.handshake + 1 });
    assert.match(await version(), /^v1\./);
  });

  it('answers garbage inside TLS with 400 and an oversized header with 431, and goes on serving', async () => {
    const before = refusals();
    const garbage = await exchange(server.https!.port, Buffer.from('\x00\x01garbage\r\n\r\n', 'latin1'), {
      tls: true,
    });
    assert.match(
      garbage.toString(),
      /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nmalformed HTTP request \(HPE_/,
    );
    const token = readFileSync(join(mount('big-header', 'speaker'), 'token'), 'utf8');
    const big = await exchange(
      server.https!.port,
      `GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      { tls: true },
    );
    assert.match(big.toString(), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(big.toString(), /\r\n\r\nthe request header is too large\n$/);
    assert.equal(server.https!.refusals.badRequest, before.badRequest + 2);
    assert.match(await version(), /^v1\./);
  });

  it('refuses an absent, malformed, unknown or revoked token with a 401 saying which', async () => {
    const dir = mount('revoked-raw', 'speaker');
    const token = readFileSync(join(dir, 'token'), 'utf8');
    server.rotateServiceAccountToken(dir);
    const cases: [string | undefined, string][] = [
      [undefined, 'Unauthorized: no bearer token'],
      ['Basic YWRtaW46YWRtaW4=', 'Unauthorized: the Authorization header is not "Bearer TOKEN"'],
      ['Bearer forged', 'Unauthorized: the bearer token is not one this server issued'],
      [`Bearer ${token}`, 'Unauthorized: the bearer token was revoked'],
    ];
    for (const [authorization, message] of cases) {
      const answer = await exchange(
        server.https!.port,
        `GET /api/v1/namespaces/${NS}/pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`,
        { tls: true },
      );
      const [head, body] = answer.toString().split('\r\n\r\n') as [string, string];
      assert.match(head, /^HTTP\/1\.1 401 /, String(authorization));
      assert.equal((JSON.parse(body) as { message: string }).message, message);
    }
    assert.match(await version(), /^v1\./);
  });

  it('closes a connection that sends nothing within the handshake timeout, and counts it', async () => {
    const quick = await startApiServer({ https: { handshakeTimeoutMs: 100 } });
    try {
      const socket = connect(quick.https!.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('close', resolve));
      assert.equal(quick.https!.refusals.silent, 1);
    } finally {
      await quick.stop();
    }
  });
});

/** Runs a program of the install in the foreground and returns its exit code and stderr. */
async function runToExit(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [BIN, ...args], { env, timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

describe('metalbeacon controller and speaker in-cluster over TLS', () => {
  const children: ChildProcess[] = [];
  const logs = new Map<ChildProcess, string[]>();

  function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(process.execPath, [BIN, '--log-format', 'json', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    child.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
    children.push(child);
    logs.set(child, lines);
    return child;
  }

  after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  async function l2Status(service: string): Promise<KubeObject | undefined> {
    const res = await fetch(`${server.url}/apis/metalbeacon.io/v1beta1/namespaces/${NS}/servicel2statuses`);
    const list = (await res.json()) as { items: KubeObject[] };
    return list.items.find(
      (o) =>
        o.metadata.labels?.['metalbeacon.io/node'] === NODE.name &&
        o.metadata.labels?.['metalbeacon.io/service-name'] === service,
    );
  }

  function createService(name: string): void {
    const { service, slices } = ingressServiceObjects(name, [NODE], { pool: 'tls-l2' });
    server.applyObjects([service]);
    server.applyObjects(slices);
  }

  it('serve a Service, and go on after both tokens are rotated and the old ones revoked', async () => {
    server.applyObjects([
      nodeObject(NODE),
      speakerPodObject(NODE),
      membershipSecretObject(Buffer.alloc(32, 7), NS),
      {
        apiVersion: 'metalbeacon.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'tls-l2', namespace: NS },
        spec: { addresses: ['198.51.100.0/28'], autoAssign: false },
      },
      {
        apiVersion: 'metalbeacon.io/v1beta1',
        kind: 'L2Advertisement',
        metadata: { name: 'tls-l2', namespace: NS },
        spec: { ipAddressPools: ['tls-l2'] },
      },
    ] as KubeObject[]);
    const controllerDir = mount('controller', 'controller');
    const speakerDir = mount('speaker', 'speaker');
    const controller = start(
      ['controller', '--no-leader-elect', '--metrics-listen', '127.0.0.1:0'],
      podEnv(controllerDir),
    );
    const speaker = start(
      [
        'speaker',
        '--node-name',
        NODE.name,
        '--metrics-listen',
        '127.0.0.1:0',
        '--membership-port',
        String(await freePort()),
        '--membership-bind-address',
        '127.0.0.1',
        '--exclude-interfaces',
        '.*',
        '--bgp-listen-port',
        '0',
        '--bgp-shutdown-drain',
        '0',
      ],
      podEnv(speakerDir),
    );
    const explain = (error: Error) => {
      throw new Error(
        `${error.message}\ncontroller:\n${logs.get(controller)!.join('')}\nspeaker:\n${logs.get(speaker)!.join('')}`,
      );
    };
    createService('web-one');
    await waitFor('the speaker to report web-one', () => l2Status('web-one'), { timeoutMs: 30_000 }).catch(
      explain,
    );

    const before401 = statuses.filter((s) => s === 401).length;
    server.rotateServiceAccountToken(controllerDir);
    server.rotateServiceAccountToken(speakerDir);
    // Every watch is cut, so both programs list and watch again, now with a revoked token.
    server.cutWatches();
    createService('web-two');
    await waitFor('the speaker to report web-two', () => l2Status('web-two'), { timeoutMs: 30_000 }).catch(
      explain,
    );
    assert.ok(statuses.filter((s) => s === 401).length > before401, 'the revoked tokens were refused');
    assert.equal(controller.exitCode, null);
    assert.equal(speaker.exitCode, null);
    const errors = [...logs.get(controller)!, ...logs.get(speaker)!]
      .join('')
      .split('\n')
      .filter((line) => /Unauthorized|"level":(50|60)/.test(line));
    assert.deepEqual(errors, []);
  });

  it('exit with a line naming the CA file or the token file that is wrong', async () => {
    const wrongCa = mount('controller-wrong-ca', 'controller');
    const other = join(home, 'other-ca.crt');
    writeFileSync(other, makeServingCertificates(['127.0.0.1']).caPem);
    cpSync(other, join(wrongCa, 'ca.crt'));
    const ca = await runToExit(
      ['controller', '--no-leader-elect', '--metrics-listen', '127.0.0.1:0'],
      podEnv(wrongCa),
    );
    assert.notEqual(ca.code, 0);
    assert.match(
      ca.stderr,
      new RegExp(
        `cannot trust the Kubernetes API server at ${server.https!.url}: .*is not signed by ${wrongCa}/ca.crt`,
      ),
    );

    const wrongToken = mount('speaker-wrong-token', 'speaker');
    writeFileSync(join(wrongToken, 'token'), 'not-a-token');
    const token = await runToExit(
      ['speaker', '--node-name', NODE.name, '--metrics-listen', '127.0.0.1:0'],
      podEnv(wrongToken),
    );
    assert.notEqual(token.code, 0);
    assert.match(
      token.stderr,
      new RegExp(
        `refused by the Kubernetes API server at .*the bearer token from ${wrongToken}/token is wrong, expired or revoked`,
      ),
    );
  });
});

describe('metalbeacon apiserver --https-listen', () => {
  const apiserver = ['apiserver', '--listen', '127.0.0.1:0', '--https-listen', '127.0.0.1:0'];

  it('serves HTTPS and writes the mounts a program connects with', async () => {
    const dir = join(home, 'cli-speaker');
    const child = spawn(
      process.execPath,
      [BIN, '--log-format', 'json', ...apiserver, '--service-account', `${NS}/speaker=${dir}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      const url = await waitFor(
        'the HTTPS address in the log',
        async () => {
          const line = stderr.split('\n').find((l) => l.includes('serving HTTPS'));
          return line ? new URL((JSON.parse(line) as { url: string }).url) : undefined;
        },
        { timeoutMs: 20_000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${stderr}`);
      });
      const client = new KubeClient(
        inClusterConnection(
          { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
          undefined,
          undefined,
          dir,
        ),
      );
      try {
        assert.match(await ensureApiServerReachable(client), /^v1\./);
        // No RBAC objects were applied: the ServiceAccount may do nothing beyond discovery.
        await assert.rejects(client.list(`/api/v1/namespaces/${NS}/pods`), { message: /HTTP 403/ });
      } finally {
        client.close();
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('refuses a malformed --service-account and one without --https-listen', async () => {
    const bad = await runToExit([...apiserver, '--service-account', 'speaker'], process.env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--service-account speaker: expected NAMESPACE\/NAME=DIR/);
    const alone = await runToExit(
      ['apiserver', '--listen', '127.0.0.1:0', '--service-account', `${NS}/speaker=${home}/x`],
      process.env,
    );
    assert.notEqual(alone.code, 0);
    assert.match(alone.stderr, /--service-account needs --https-listen/);
  });
});
