import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../scripts/sync-config.ts';

/**
 * Why the speaker DaemonSet runs as uid 0 with two capabilities rather than as a non-root
 * user, shown on this kernel: each case starts the real Node and native addon under the
 * credentials a container runtime would give, in a network namespace of its own (only its
 * loopback; nothing is sent anywhere), via util-linux setpriv. Runs as root.
 */

const run = promisify(execFile);
const node = process.execPath;
const NATIVE = join(REPO_ROOT, 'native/index.ts');
const NOBODY = '65532';

/** The speaker container's securityContext, from the manifest users apply. */
function speakerSecurity(): { uid: number; add: string[]; drop: string[] } {
  const text = readFileSync(join(REPO_ROOT, 'deploy/kustomize/default/speaker.yaml'), 'utf8');
  const ds = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string })
    .find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
  const sc = ds.spec?.template.spec?.containers[0]?.securityContext;
  assert.ok(sc?.capabilities, 'the speaker sets capabilities');
  return { uid: sc.runAsUser ?? 0, add: sc.capabilities.add ?? [], drop: sc.capabilities.drop ?? [] };
}

/** Opens (and closes) an ARP packet socket on lo, then tries to listen on TCP 179; prints both outcomes. */
const PROBE = `
const { loadNative } = await import(${JSON.stringify(NATIVE)});
const out = {};
try {
  const s = new (loadNative().PacketSocket)({ ifindex: 1, protocol: 0x0806, onFrame() {} });
  s.close();
  out.packet = 'ok';
} catch (e) { out.packet = e.code ?? e.message; }
const net = await import('node:net');
out.bgp = await new Promise((resolve) => {
  const srv = net.createServer();
  srv.once('error', (e) => resolve(e.code));
  srv.listen(179, '127.0.0.1', () => srv.close(() => resolve('ok')));
});
console.log(JSON.stringify(out));
`;

/** Runs the probe in a new network namespace under the given setpriv credentials. */
async function probe(setpriv: string[], binary = node): Promise<{ packet: string; bgp: string }> {
  const { stdout } = await run('unshare', [
    '--net',
    'setpriv',
    ...setpriv,
    '--',
    binary,
    '--input-type=module',
    '-e',
    PROBE,
  ]);
  return JSON.parse(stdout) as { packet: string; bgp: string };
}

function capList(names: string[]): string {
  return names.map((n) => `+${n.toLowerCase()}`).join(',');
}

describe('speaker privileges', () => {
  const sc = speakerSecurity();
  let scratch: string;

  before(() => {
    assert.equal(process.getuid?.(), 0, 'this test starts processes under other credentials: run it as root');
    scratch = mkdtempSync(join(tmpdir(), 'mb-deploy-caps-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('the manifest: uid 0, every capability dropped but NET_RAW and NET_ADMIN', () => {
    assert.equal(sc.uid, 0);
    assert.deepEqual(sc.drop, ['ALL']);
    assert.deepEqual(sc.add, ['NET_RAW', 'NET_ADMIN']);
  });

  test('as the DaemonSet runs it (uid 0, bounding set = the two, no_new_privs) the speaker opens packet sockets', async () => {
    const result = await probe([
      `--bounding-set=-all,${capList(sc.add)}`,
      '--inh-caps=-all',
      '--no-new-privs',
    ]);
    assert.equal(result.packet, 'ok');
    // No CAP_NET_BIND_SERVICE: BGP sessions are opened by the speaker, incoming ones refused.
    assert.equal(result.bgp, 'EACCES');
  });

  test('a non-root user given the same capabilities as Kubernetes gives them (no ambient set) cannot', async () => {
    const user = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
    const withoutAmbient = await probe([
      ...user,
      `--bounding-set=-all,${capList(sc.add)}`,
      '--inh-caps=-all',
      '--no-new-privs',
    ]);
    assert.equal(withoutAmbient.packet, 'EPERM');
    // The ambient set would do it; Kubernetes has no field for it (kubernetes/kubernetes#56374).
    const withAmbient = await probe([
      ...user,
      `--bounding-set=-all,${capList(sc.add)}`,
      `--inh-caps=${capList(sc.add)}`,
      `--ambient-caps=${capList(sc.add)}`,
      '--no-new-privs',
    ]);
    assert.equal(withAmbient.packet, 'ok');
  });

  test('file capabilities on the shared node binary would stop the controller (all capabilities dropped) from starting', async () => {
    const binary = join(scratch, 'node');
    copyFileSync(node, binary);
    await run('setcap', [`${sc.add.map((c) => `cap_${c.toLowerCase()}`).join(',')}+ep`, binary]);
    const controllerLike = [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      '--bounding-set=-all',
    ];
    await assert.rejects(
      run('setpriv', [...controllerLike, '--inh-caps=-all', '--no-new-privs', '--', binary, '-e', '0']),
      (error: Error & { stderr?: string }) => /Operation not permitted/.test(error.stderr ?? ''),
    );
  });
});
