import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MembershipConfigError, MembershipDefaults, MembershipFastest, membershipConfig } from './config.ts';

const keys = [Buffer.alloc(32, 1)];

test('defaults fill what is not given, and meet the 400 ms detection budget', () => {
  const config = membershipConfig({ nodeName: 'node-a.example', keys });
  assert.equal(config.heartbeatIntervalMs, MembershipDefaults.heartbeatIntervalMs);
  assert.ok(config.deadAfterMs + config.tickMs <= 400);
  assert.equal(
    membershipConfig({ nodeName: 'a', keys, deadAfterMs: undefined }).deadAfterMs,
    MembershipDefaults.deadAfterMs,
  );
  assert.doesNotThrow(() => membershipConfig({ nodeName: 'a', keys, ...MembershipFastest }));
});

test('each impossible setting is an error naming its field', () => {
  const cases: Array<[Parameters<typeof membershipConfig>[0], string, RegExp]> = [
    [{ nodeName: 'Node_A', keys }, 'nodeName', /"Node_A" is not a Kubernetes node name/],
    [{ nodeName: 'a', keys: [] }, 'keys', /at least one/],
    [{ nodeName: 'a', keys: [Buffer.alloc(8)] }, 'keys', /key 0 has 8 bytes/],
    [{ nodeName: 'a', keys, heartbeatIntervalMs: 0 }, 'heartbeatIntervalMs', /positive integer/],
    [{ nodeName: 'a', keys, tickMs: 2.5 }, 'tickMs', /positive integer/],
    [{ nodeName: 'a', keys, deadAfterMs: 60 }, 'deadAfterMs', /twice heartbeatIntervalMs/],
    [{ nodeName: 'a', keys, tickMs: 80 }, 'tickMs', /must not exceed/],
    [{ nodeName: 'a', keys, maxClockSkewMs: 200 }, 'maxClockSkewMs', /at least deadAfterMs/],
    [{ nodeName: 'a', keys, leaveRepeats: 11 }, 'leaveRepeats', /more than 10/],
  ];
  for (const [input, field, message] of cases) {
    assert.throws(
      () => membershipConfig(input),
      (e: unknown) => e instanceof MembershipConfigError && e.field === field && message.test(e.message),
      field,
    );
  }
});
