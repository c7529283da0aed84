import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { AuditEntry } from '../../apiserver/authorization.ts';
import { readManifests } from '../../apiserver/manifests.ts';
import { REPO_ROOT } from '../../scripts/sync-config.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { nativeSocketOptions } from '../../speaker/bgp/native-socket.ts';
import type { SpeakerHandle } from '../../speaker/shell/options.ts';
import { kubeClientFromText } from '../support/kube-client.ts';
import { type Bed, createCr, createNode, createSpeakerPod, NS, startBed } from './harness.ts';

// The speaker reads the BGPPeers' password Secrets one by one, by name, under the speaker Role
// the install ships (config/rbac/speaker.yaml, RBAC enforced by the embedded API server) plus a
// Role naming the password Secret, as the Helm chart renders it for speaker.bgpPasswordSecrets:
// the password is in force, a rotated password is taken without any BGPPeer change, a Secret
// the Role does not name is a configuration error saying what to do (the last good
// configuration stays), and granting it fixes that. The speaker never lists, watches or
// creates a Secret.

const REFRESH_MS = 200;
let bed: Bed;
let client: KubeClient;
let speaker: SpeakerHandle;
const audit: AuditEntry[] = [];
const logs: string[] = [];
const SPEAKER_USER = `system:serviceaccount:${NS}:speaker`;

function passwordSecret(name: string, password: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NS },
    type: 'kubernetes.io/basic-auth',
    data: {
      username: Buffer.from('router').toString('base64'),
      password: Buffer.from(password).toString('base64'),
    },
  };
}

function passwordRole(names: string[]) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'speaker-bgp-passwords', namespace: NS },
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: names, verbs: ['get'] }],
  };
}

const passwordOf = (peer: string) =>
  speaker.lastPlan()?.peers.find((p) => p.peer.name === peer)?.peer.password;

before(async () => {
  bed = await startBed({ onAudit: (entry) => audit.push(entry) });
  bed.server.applyObjects([
    ...readManifests([`${REPO_ROOT}/config/rbac`]),
    passwordRole(['router-password']),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'speaker-bgp-passwords', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'speaker-bgp-passwords' },
      subjects: [{ kind: 'ServiceAccount', name: 'speaker', namespace: NS }],
    },
    passwordSecret('router-password', 'first'),
    passwordSecret('locked', 'locked-pw'),
  ] as never);
  await createNode(bed, 'node-a', '192.0.2.11');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
  await createCr(bed, 'BGPPeer', 'bgppeers', 'router', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: '127.0.0.2', // loopback: the session attempts never leave the host
    passwordSecret: { name: 'router-password' },
  });
  client = kubeClientFromText(bed.server.serviceAccountKubeconfig(NS, 'speaker'));
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  speaker = await bed.startSpeaker('node-a', '127.0.0.1', {
    client,
    log,
    secretRefreshMs: REFRESH_MS,
    socketOptions: nativeSocketOptions(),
  });
});

after(async () => {
  await bed?.close();
  client?.close();
});

test('the password comes from the Secret the BGPPeer names', async () => {
  await waitFor('the first password in force', () => (passwordOf('router') === 'first' ? true : undefined));
});

test('a rotated password is in force after a refresh, with no BGPPeer change', async () => {
  bed.server.applyObjects([passwordSecret('router-password', 'second')] as never);
  await waitFor('the second password in force', () => (passwordOf('router') === 'second' ? true : undefined));
});

test('a Secret the Role does not name: a configuration error saying what to do; the last good one stays', async () => {
  await createCr(bed, 'BGPPeer', 'bgppeers', 'other', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: '127.0.0.3',
    passwordSecret: { name: 'locked' },
  });
  const line = await waitFor('the configuration rejected', () =>
    logs.find((l) => l.includes('configuration rejected') && l.includes('locked')),
  );
  assert.match(
    line,
    /BGPPeer metalbeacon-system\/other spec.passwordSecret: Secret metalbeacon-system\/locked cannot be read: the speaker's Role does not allow it \(403 Forbidden\): add the name to the Role's resourceNames \(Helm: speaker.bgpPasswordSecrets/,
  );
  assert.equal(passwordOf('router'), 'second', 'the last good configuration stays');
  assert.equal(passwordOf('other'), undefined);
});

test('granting it (the Role names it) fixes the configuration at the next refresh', async () => {
  bed.server.applyObjects([passwordRole(['router-password', 'locked'])] as never);
  await waitFor('the other peer with its password', () =>
    passwordOf('other') === 'locked-pw' ? true : undefined,
  );
  assert.ok(logs.some((l) => l.includes('configuration valid again')));
});

test('the speaker only ever got Secrets by name: no list, watch or create, no refusal but the one', () => {
  const secrets = audit.filter((e) => e.user === SPEAKER_USER && e.attributes.resource === 'secrets');
  const verbs = new Set(secrets.map((e) => e.attributes.verb));
  assert.deepEqual([...verbs], ['get']);
  assert.deepEqual([...new Set(secrets.map((e) => e.attributes.name))].sort(), [
    'locked',
    'metalbeacon-membership',
    'router-password',
  ]);
  const refused = audit.filter((e) => e.user === SPEAKER_USER && !e.allowed);
  assert.ok(refused.length > 0);
  assert.deepEqual(
    [...new Set(refused.map((e) => `${e.attributes.verb} ${e.attributes.resource}/${e.attributes.name}`))],
    ['get secrets/locked'],
  );
});
