import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import type { SpeakerHandle } from '../../speaker/shell/options.ts';
import {
  type Bed,
  createCr,
  createNode,
  createService,
  createSpeakerPod,
  deleteSpeakerPod,
  listCrs,
  setEndpoints,
  startBed,
} from './harness.ts';

// Two speakers in this process on loopback membership (node-a on 127.0.0.1, node-b on
// 127.0.0.2, one port as in a DaemonSet): one announces the IP; it leaves (SIGTERM path) or
// dies and the other takes over, which the status object shows. Then the split-brain guard.

let bed: Bed;
before(async () => {
  bed = await startBed();
  await createNode(bed, 'node-a', '192.0.2.11');
  await createNode(bed, 'node-b', '192.0.2.12');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
  await createSpeakerPod(bed, 'node-b', '127.0.0.2');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', {});
  await createService(bed, 'web', ['198.51.100.5']);
  await setEndpoints(bed, 'web', ['node-a', 'node-b']);
});
after(async () => {
  await bed.close();
});

const ADDRESS = { 'node-a': '127.0.0.1', 'node-b': '127.0.0.2' } as const;
type NodeName = keyof typeof ADDRESS;

/** The node named by the only ServiceL2Status of web, once there is exactly one. */
async function announcingNode(except?: string): Promise<string> {
  return waitFor(`one ServiceL2Status for web${except ? ` not on ${except}` : ''}`, async () => {
    const items = (await listCrs(bed, 'servicel2statuses')).filter((o) => o.status?.serviceName === 'web');
    const node = items[0]?.status?.node as string | undefined;
    return items.length === 1 && node !== except ? node : undefined;
  });
}

const owns = (speaker: SpeakerHandle) => speaker.lastPlan()?.l2.some((a) => a.ip === '198.51.100.5') ?? false;

test('the owner leaves: the other takes the IP over and the status object moves', async (t) => {
  const speakers = new Map<NodeName, SpeakerHandle>();
  const started: SpeakerHandle[] = [];
  t.after(async () => {
    for (const s of started) await s.kill();
  });
  const start = async (node: NodeName) => {
    const speaker = await bed.startSpeaker(node, ADDRESS[node]);
    speakers.set(node, speaker);
    started.push(speaker);
  };
  const seesTwo = (node: NodeName) =>
    waitFor(`${node} ready and seeing two members`, async () => {
      const speaker = speakers.get(node)!;
      const text = await speaker.metrics.registry.getSingleMetricAsString(
        'metalbeacon_membership_alive_members',
      );
      return speaker.ready() && /alive_members 2/.test(text) ? true : undefined;
    });
  for (const node of ['node-a', 'node-b'] as const) await start(node);
  // A speaker that started alone announced everything for a moment: wait until both see each
  // other, then take the owner from the plans and check the status object names it.
  await seesTwo('node-a');
  await seesTwo('node-b');
  const owner = await waitFor('one owner among the two', async () => {
    const [x, y] = [owns(speakers.get('node-a')!), owns(speakers.get('node-b')!)];
    return x !== y ? (x ? 'node-a' : 'node-b') : undefined;
  });
  const other: NodeName = owner === 'node-a' ? 'node-b' : 'node-a';
  await waitFor('the status object names the owner', async () =>
    (await announcingNode()) === owner ? true : undefined,
  );

  await speakers.get(owner)!.stop();
  assert.equal(await announcingNode(owner), other);
  assert.ok(owns(speakers.get(other)!));
  const metrics = await speakers.get(other)!.metrics.registry.metrics();
  assert.match(metrics, /metalbeacon_membership_alive_members 1/);
  // A graceful leave is not a failure.
  assert.doesNotMatch(metrics, /metalbeacon_membership_failures_detected_total\{peer="/);

  // The leaver comes back (a rolling restart): both run again; then the owner crashes.
  await start(owner);
  await seesTwo(owner);
  await seesTwo(other);
  await Promise.all([speakers.get(owner)!.idle(), speakers.get(other)!.idle()]);
  // The owner may have moved back (the ranking is by node and IP): ask the plans, not the status.
  const second = await waitFor('one owner among the two', async () => {
    const [x, y] = [owns(speakers.get('node-a')!), owns(speakers.get('node-b')!)];
    return x !== y ? (x ? 'node-a' : 'node-b') : undefined;
  });
  const survivor: NodeName = second === 'node-a' ? 'node-b' : 'node-a';
  await speakers.get(second)!.kill();
  await waitFor('the survivor owns the IP', async () => (owns(speakers.get(survivor)!) ? true : undefined));
  // Detected as a failure (missing heartbeats), unlike the leave above.
  await waitFor('the failure counted', async () => {
    const failures = await speakers
      .get(survivor)!
      .metrics.registry.getSingleMetricAsString('metalbeacon_membership_failures_detected_total');
    return failures.includes(`peer="${second}"} 1`) ? true : undefined;
  });
  // The crashed speaker could not clean up; once its Pod is gone the survivor collects its object.
  await deleteSpeakerPod(bed, second);
  assert.equal(await announcingNode(second), survivor);
  await speakers.get(survivor)!.stop();
});

test('split-brain guard: no peer alive and no API server -> withdraw everything until one is back', async () => {
  await createSpeakerPod(bed, 'node-a', '127.0.0.1').catch(() => undefined);
  await createSpeakerPod(bed, 'node-b', '127.0.0.2').catch(() => undefined);
  const a = await bed.startSpeaker('node-a', ADDRESS['node-a']);
  const b = await bed.startSpeaker('node-b', ADDRESS['node-b']);
  await waitFor('one of them announces', async () => (owns(a) !== owns(b) ? true : undefined));
  const [lonely, crashing] = owns(a) ? [a, b] : [b, a];
  // The API server goes away, then the peer: the lonely one cannot tell it is not the isolated one.
  const outage = bed.server.restart({ downMs: 3000 });
  await crashing.kill();
  await waitFor('isolated: nothing announced', async () =>
    lonely.lastPlan()?.l2.length === 0 ? true : undefined,
  );
  const isolated = await lonely.metrics.registry.getSingleMetricAsString('metalbeacon_speaker_isolated_bool');
  assert.match(isolated, /isolated_bool 1/);
  await outage;
  await waitFor('announcing again once the API server answers', async () =>
    owns(lonely) ? true : undefined,
  );
  await lonely.stop();
});
