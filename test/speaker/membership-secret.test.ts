import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { membershipSecretObject } from '../../lab/objects.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import type { SpeakerHandle } from '../../speaker/shell/options.ts';
import { kubeClientFromText } from '../support/kube-client.ts';
import { type Bed, createNode, createSpeakerPod, NS, startBed } from './harness.ts';

// The speaker never creates the membership Secret (it may only read it by name): started before
// the install made it, it waits, says so, and starts once the Secret is there. A speaker whose
// Role does not name the Secret stops at once with the API server's refusal.

let bed: Bed;
const logs: string[] = [];

before(async () => {
  bed = await startBed();
  bed.server.deleteObject('v1', 'Secret', NS, 'metalbeacon-membership');
  await createNode(bed, 'node-a', '192.0.2.11');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
});
after(() => bed?.close());

test('started before the Secret exists: waits, says so, starts once the install made it', async () => {
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  let started: SpeakerHandle | undefined;
  const starting = bed.startSpeaker('node-a', '127.0.0.1', { log }).then((s) => {
    started = s;
  });
  const line = await waitFor('the speaker waiting', () =>
    logs.find((l) => l.includes('waiting for the membership Secret')),
  );
  assert.match(line, /"secret":"metalbeacon-system\/metalbeacon-membership"/);
  assert.match(line, /the install creates it \(the Helm chart, or the kustomize Job membership-key\)/);
  assert.equal(started, undefined, 'not started without its key');
  bed.server.applyObjects([membershipSecretObject(randomBytes(32), NS)] as never);
  await starting;
  await waitFor('the speaker ready', () => started?.ready());
  const secrets = await bed.core.listNamespacedSecret({ namespace: NS });
  assert.deepEqual(
    secrets.items.map((s) => s.metadata?.name),
    ['metalbeacon-membership'],
    'the speaker created no Secret of its own',
  );
});

test('a Role that does not name the Secret: the start fails with the refusal, no waiting', async () => {
  bed.server.applyObjects([
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'other-secret', namespace: NS },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['something-else'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'other-secret', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'other-secret' },
      subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: NS }],
    },
  ] as never);
  const client = kubeClientFromText(bed.server.serviceAccountKubeconfig(NS, 'limited'));
  try {
    await assert.rejects(
      bed.startSpeaker('node-b', '127.0.0.2', { client, log: pino({ level: 'silent' }) }),
      (error: Error & { code?: number }) =>
        error.code === 403 && /secrets "metalbeacon-membership" is forbidden/.test(error.message),
    );
  } finally {
    client.close();
  }
});
