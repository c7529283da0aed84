import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectionFromKubeconfig,
  delegatedAuth,
  inClusterConnection,
  readServiceAccountMount,
} from './connection.ts';
import { kubeconfigWith } from './test-helpers.ts';

/** A kubeconfig with one context; `cluster` and `user` are merged into the defaults. */
const kubeconfig = (cluster: Record<string, unknown> = {}, user: Record<string, unknown> = {}) =>
  kubeconfigWith('https://192.0.2.1:6443', cluster, user);

/** Files by path; anything else is missing. */
function files(map: Record<string, string>) {
  return (path: string) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return Buffer.from(text);
  };
}

describe('connectionFromKubeconfig', () => {
  it('reads server, CA and client certificate from data fields and files', async () => {
    const c = connectionFromKubeconfig(
      kubeconfig(
        { 'certificate-authority-data': Buffer.from('CA').toString('base64'), 'tls-server-name': 'api' },
        { 'client-certificate': 'cert.pem', 'client-key-data': Buffer.from('KEY').toString('base64') },
      ),
      files({ 'cert.pem': 'CERT' }),
    );
    assert.equal(c.server.href, 'https://192.0.2.1:6443/');
    assert.equal(c.tls.ca?.toString(), 'CA');
    assert.equal(c.tls.cert?.toString(), 'CERT');
    assert.equal(c.tls.key?.toString(), 'KEY');
    assert.equal(c.tls.servername, 'api');
    assert.equal(c.tls.rejectUnauthorized, true);
    assert.deepEqual(await c.headers(), {});
  });

  it('sends a token, a token file (read per request) or basic credentials', async () => {
    assert.deepEqual(await connectionFromKubeconfig(kubeconfig({}, { token: 't1' }), files({})).headers(), {
      authorization: 'Bearer t1',
    });
    const fs: Record<string, string> = { tok: 'first\n' };
    const fromFile = connectionFromKubeconfig(kubeconfig({}, { tokenFile: 'tok' }), files(fs));
    assert.deepEqual(await fromFile.headers(), { authorization: 'Bearer first' });
    fs.tok = 'second';
    assert.deepEqual(await fromFile.headers(), { authorization: 'Bearer second' });
    const basic = connectionFromKubeconfig(kubeconfig({}, { username: 'a', password: 'b' }), files({}));
    assert.deepEqual(await basic.headers(), {
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    });
  });

  it('honours insecure-skip-tls-verify', () => {
    const c = connectionFromKubeconfig(kubeconfig({ 'insecure-skip-tls-verify': true }), files({}));
    assert.equal(c.tls.rejectUnauthorized, false);
  });

  it('names the context, cluster, user and field that are wrong', () => {
    const cases: [unknown, RegExp][] = [
      ['text', /expected a YAML mapping/],
      [{ ...kubeconfig(), 'current-context': undefined }, /no current-context/],
      [{ ...kubeconfig(), 'current-context': 'y' }, /current-context y is not among the contexts/],
      [{ ...kubeconfig(), clusters: [] }, /context x: cluster c not found/],
      [kubeconfig({ server: undefined }), /cluster c: no server/],
      [kubeconfig({ server: 'not a url' }), /cluster c: server not a url is not a URL/],
      [kubeconfig({ server: 6443 }), /cluster c: field server must be a string/],
      [kubeconfig({ 'proxy-url': 'http://192.0.2.9:3128' }), /cluster c: proxy-url is not supported/],
      [kubeconfig({}, { exec: { command: 'aws' } }), /user u: exec needs client-node/],
      [kubeconfig({}, { 'client-certificate': 'missing.pem' }), /ENOENT: missing.pem/],
    ];
    for (const [doc, message] of cases)
      assert.throws(() => connectionFromKubeconfig(doc, files({})), { message });
  });

  it('recognises users that need an auth plugin', () => {
    assert.equal(delegatedAuth(kubeconfig({}, { exec: { command: 'aws' } })), true);
    assert.equal(delegatedAuth(kubeconfig({}, { 'auth-provider': { name: 'oidc' } })), true);
    assert.equal(delegatedAuth(kubeconfig({}, { token: 't' })), false);
  });
});

const PEM = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';

describe('readServiceAccountMount', () => {
  it('reads token, ca.crt and namespace as the kubelet writes them', () => {
    const mount = readServiceAccountMount(
      '/sa',
      files({ '/sa/token': 'abc\n', '/sa/ca.crt': PEM, '/sa/namespace': 'metalbeacon-system' }),
    );
    assert.deepEqual(mount, {
      dir: '/sa',
      token: 'abc',
      ca: Buffer.from(PEM),
      namespace: 'metalbeacon-system',
    });
    assert.equal(
      readServiceAccountMount('/sa', files({ '/sa/token': 'abc', '/sa/ca.crt': PEM })).namespace,
      undefined,
    );
  });

  it('names the file that is missing or wrong', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ '/sa/ca.crt': PEM }, /service account mount \/sa: cannot read token: ENOENT/],
      [{ '/sa/token': 'abc' }, /service account mount \/sa: cannot read ca.crt: ENOENT/],
      [{ '/sa/token': ' \n', '/sa/ca.crt': PEM }, /service account mount \/sa: token is empty/],
      [{ '/sa/token': 'a b', '/sa/ca.crt': PEM }, /token holds white space inside/],
      [{ '/sa/token': 'abc', '/sa/ca.crt': 'not a certificate' }, /ca.crt holds no PEM certificate/],
    ];
    for (const [fs, message] of cases)
      assert.throws(() => readServiceAccountMount('/sa', files(fs)), { message });
  });
});

describe('inClusterConnection', () => {
  it('uses the Service address, the mounted CA and re-reads a rotated token after a minute', async () => {
    const fs: Record<string, string> = { '/sa/token': 'one', '/sa/ca.crt': PEM };
    let now = 0;
    const c = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' },
      files(fs),
      () => now,
      '/sa',
    );
    assert.equal(c.server.href, 'https://[2001:db8::1]/');
    assert.equal(c.tls.ca?.toString(), PEM);
    assert.deepEqual(c.sources, { ca: '/sa/ca.crt', token: '/sa/token' });
    fs['/sa/token'] = 'two';
    assert.deepEqual(await c.headers(), { authorization: 'Bearer one' });
    now = 60_000;
    assert.deepEqual(await c.headers(), { authorization: 'Bearer two' });
  });

  it('re-reads the token at once when asked (after a 401), saying whether it changed', async () => {
    const fs: Record<string, string> = { '/sa/token': 'one', '/sa/ca.crt': PEM };
    const c = inClusterConnection({ KUBERNETES_SERVICE_HOST: '192.0.2.1' }, files(fs), () => 0, '/sa');
    assert.equal(c.refreshCredentials?.(), false);
    fs['/sa/token'] = 'two\n';
    assert.equal(c.refreshCredentials?.(), true);
    assert.deepEqual(await c.headers(), { authorization: 'Bearer two' });
    // A token file caught mid-rotation (empty or gone) keeps the token in hand.
    fs['/sa/token'] = '';
    assert.equal(c.refreshCredentials?.(), false);
    delete fs['/sa/token'];
    assert.equal(c.refreshCredentials?.(), false);
    assert.deepEqual(await c.headers(), { authorization: 'Bearer two' });
  });

  it('takes the mount directory from METALBEACON_SERVICE_ACCOUNT_DIR', () => {
    const c = inClusterConnection(
      {
        KUBERNETES_SERVICE_HOST: '192.0.2.1',
        KUBERNETES_SERVICE_PORT: '6443',
        METALBEACON_SERVICE_ACCOUNT_DIR: '/elsewhere',
      },
      files({ '/elsewhere/token': 't', '/elsewhere/ca.crt': PEM }),
    );
    assert.equal(c.server.href, 'https://192.0.2.1:6443/');
    assert.equal(c.sources?.token, '/elsewhere/token');
  });

  it('refuses to run without the Service environment or with a bad port', () => {
    assert.throws(() => inClusterConnection({}, files({})), {
      message: /KUBERNETES_SERVICE_HOST is not set/,
    });
    assert.throws(
      () =>
        inClusterConnection(
          { KUBERNETES_SERVICE_HOST: '192.0.2.1', KUBERNETES_SERVICE_PORT: '99999' },
          files({}),
        ),
      { message: /KUBERNETES_SERVICE_PORT 99999 is not a port number/ },
    );
  });
});
