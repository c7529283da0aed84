import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from '../../../shared/metrics/metrics.ts';
import { promMembershipMetrics } from './metrics.ts';

test('prom metrics land in the registry passed in, with reason and peer labels', async () => {
  const registry = new Registry();
  const metrics = promMembershipMetrics(registry);
  metrics.aliveMembers(3);
  metrics.failureDetected('node-c');
  metrics.messagesRejected({ 'bad-mac': 1, replay: 1 });
  metrics.messagesRejected({ 'bad-mac': 1, 'unknown-source': 5000 });
  const text = await registry.metrics();
  assert.match(text, /^metalbeacon_membership_alive_members 3$/m);
  assert.match(text, /^metalbeacon_membership_failures_detected_total\{peer="node-c"\} 1$/m);
  assert.match(text, /^metalbeacon_membership_messages_rejected_total\{reason="bad-mac"\} 2$/m);
  assert.match(text, /^metalbeacon_membership_messages_rejected_total\{reason="replay"\} 1$/m);
  assert.match(text, /^metalbeacon_membership_messages_rejected_total\{reason="unknown-source"\} 5000$/m);
  // A second registry is independent: no global state.
  assert.doesNotMatch(await new Registry().metrics(), /metalbeacon_membership/);
  assert.doesNotThrow(() => promMembershipMetrics(new Registry()));
});
