import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isWriteVerb, type RequestRecord, requestVerb } from './request-record.ts';
import { type ApiServerHandle, startApiServer } from './server.ts';

describe('requestVerb', () => {
  it('names each request as the real audit log does', () => {
    const cases: [string, string, string][] = [
      ['GET', '/version', 'get'],
      ['GET', '/api/v1/namespaces/a/services', 'list'],
      ['GET', '/api/v1/services?watch=1&resourceVersion=5', 'watch'],
      ['GET', '/api/v1/watch/namespaces/a/services', 'watch'],
      ['GET', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', 'get'],
      ['POST', '/api/v1/namespaces/a/events', 'create'],
      ['PUT', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', 'update'],
      ['PATCH', '/api/v1/namespaces/a/services/s/status', 'patch'],
      ['DELETE', '/api/v1/namespaces/a/configmaps/c', 'delete'],
      ['DELETE', '/api/v1/namespaces/a/configmaps', 'deletecollection'],
      ['GET', '/api/v1/namespaces/%E0%A4%A/services', 'get'],
    ];
    for (const [method, path, verb] of cases) {
      assert.equal(requestVerb(method, new URL(path, 'http://x')), verb, `${method} ${path}`);
    }
    assert.deepEqual(
      (['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const).filter(
        isWriteVerb,
      ),
      ['create', 'update', 'patch', 'delete', 'deletecollection'],
    );
  });
});

describe('the request record hook', () => {
  const events: RequestRecord[] = [];
  let server: ApiServerHandle;
  before(async () => {
    server = await startApiServer({ onRequestRecord: (event) => events.push(event) });
  });
  after(() => server.stop());

  async function call(method: string, path: string, agent: string, body?: unknown): Promise<number> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/merge-patch+json', 'user-agent': agent },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await res.text();
    return res.status;
  }

  it('records every request with its verb, client, answer and times, in the order the store applied writes', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    assert.equal(await call('POST', cms, 'replica-a', { metadata: { name: 'c' } }), 201);
    assert.equal(await call('PATCH', `${cms}/c`, 'replica-b', { data: { x: '1' } }), 200);
    // A stale precondition: refused, and recorded as refused.
    const stale = { metadata: { resourceVersion: '1' }, data: { x: '2' } };
    assert.equal(await call('PATCH', `${cms}/c`, 'replica-a', stale), 409);
    assert.equal(await call('GET', `${cms}/c`, 'kubectl'), 200);
    assert.equal(await call('DELETE', `${cms}/c`, ''), 200);
    const seen = events.map((e) => [e.verb, e.requestURI, e.userAgent, e.code]);
    assert.deepEqual(seen, [
      ['create', cms, 'replica-a', 201],
      ['patch', `${cms}/c`, 'replica-b', 200],
      ['patch', `${cms}/c`, 'replica-a', 409],
      ['get', `${cms}/c`, 'kubectl', 200],
      ['delete', `${cms}/c`, '', 200],
    ]);
    for (const [i, e] of events.entries()) {
      assert.ok(e.receivedMs <= e.completedMs, `event ${i}: completed before it was received`);
      if (i > 0) assert.ok(events[i - 1]!.completedMs <= e.receivedMs, `event ${i} overlaps the one before`);
    }
  });
});
