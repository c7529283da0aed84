import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionFromKubeconfig, delegatedAuth, inClusterConnection } from './connection.ts';

/** A kubeconfig with one context; `cluster` and `user` are merged into the defaults. */
function kubeconfig(cluster: Record<string, unknown> = {}, user: Record<string, unknown> = {}) {
  return {
    'current-context': 'x',
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster: { server: 'https://192.0.2.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
  };
}

/** Files by path; anything else is missing. */
function files(map: Record<string, string>) {
  return (path: string) => {
    const text = map[path];
    if (text === undefined) throw new Error(`ENOENT: ${path}`);
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

describe('inClusterConnection', () => {
  it('uses the Service address, the mounted CA and re-reads a rotated token after a minute', async () => {
    const fs: Record<string, string> = { '/sa/token': 'one', '/sa/ca.crt': 'CA' };
    let now = 0;
    const c = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' },
      files(fs),
      () => now,
      '/sa',
    );
    assert.equal(c.server.href, 'https://[2001:db8::1]/');
    assert.equal(c.tls.ca?.toString(), 'CA');
    fs['/sa/token'] = 'two';
    assert.deepEqual(await c.headers(), { authorization: 'Bearer one' });
    now = 60_000;
    assert.deepEqual(await c.headers(), { authorization: 'Bearer two' });
  });

  it('refuses to run without the Service environment', () => {
    assert.throws(() => inClusterConnection({}, files({})), {
      message: /KUBERNETES_SERVICE_HOST is not set/,
    });
  });
});
