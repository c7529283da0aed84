import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceAccountUser } from './rbac.ts';
import { TokenTable } from './tokens.ts';

function table(): TokenTable {
  let n = 0;
  return new TokenTable(() => `t${++n}`);
}

describe('TokenTable', () => {
  const speaker = serviceAccountUser('metalbeacon-system', 'speaker');

  it('authenticates an issued token as its ServiceAccount', () => {
    const t = table();
    const token = t.issue(speaker);
    assert.deepEqual(t.review(token), { authenticated: true, user: speaker });
  });

  it('tells a revoked token from one never issued', () => {
    const t = table();
    const token = t.issue(speaker);
    assert.equal(t.revoke(token), true);
    assert.equal(t.revoke(token), false);
    assert.deepEqual(t.review(token), { authenticated: false, reason: 'revoked' });
    assert.deepEqual(t.review('forged'), { authenticated: false, reason: 'unknown' });
  });

  it('rotates: the new token is the same user, the old one revoked', () => {
    const t = table();
    const old = t.issue(speaker);
    const next = t.rotate(old);
    assert.notEqual(next, old);
    assert.deepEqual(t.review(next), { authenticated: true, user: speaker });
    assert.deepEqual(t.review(old), { authenticated: false, reason: 'revoked' });
    assert.throws(() => t.rotate(old), /not live/);
  });

  it('keeps a bounded number of revoked tokens', () => {
    const t = table();
    const first = t.issue(speaker);
    t.revoke(first);
    for (let i = 0; i < 2000; i++) t.revoke(t.issue(speaker));
    assert.deepEqual(t.review(first), { authenticated: false, reason: 'unknown' });
  });
});
