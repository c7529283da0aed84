import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { KubeClient } from './client.ts';

// Per-call limits of the client (CallOptions), against loopback servers that misbehave on purpose.

interface Stub {
  readonly client: KubeClient;
  /** Requests the server received, and whether each one's connection closed before it answered. */
  readonly seen: { method: string; path: string; closedEarly: boolean }[];
  /** Resolves when the server has received a request. */
  readonly received: Promise<void>;
  /** Resolves when a request's connection closed before its answer was complete. */
  readonly cut: Promise<void>;
  close(): Promise<void>;
}

async function stub(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Stub> {
  const seen: Stub['seen'] = [];
  const received = Promise.withResolvers<void>();
  const cut = Promise.withResolvers<void>();
  const server: Server = createServer((req, res) => {
    const entry = { method: req.method ?? '', path: req.url ?? '', closedEarly: false };
    seen.push(entry);
    received.resolve();
    res.on('close', () => {
      if (res.writableFinished) return;
      entry.closedEarly = true;
      cut.resolve();
    });
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new KubeClient({
    server: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    tls: { rejectUnauthorized: true },
    headers: async () => ({}),
  });
  return {
    client,
    seen,
    received: received.promise,
    cut: cut.promise,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l';
const stubs: Stub[] = [];
after(async () => {
  for (const s of stubs) await s.close();
});

describe('KubeClient call limits', { timeout: 10_000 }, () => {
  it('ends a call whose answer stops half-way at its timeout, with a message naming the call', async () => {
    const s = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"spec":');
    });
    stubs.push(s);
    await assert.rejects(s.client.replace(LEASE, { spec: {} }, { timeoutMs: 100 }), {
      message: `PUT ${LEASE}: no answer in 100 ms`,
    });
    await s.cut;
    assert.equal(s.seen[0]?.closedEarly, true);
  });

  it('abandons a call in flight when its signal is aborted, closing the connection', async () => {
    const s = await stub(() => undefined); // never answers
    stubs.push(s);
    const term = new AbortController();
    const call = s.client.patch('/api/v1/namespaces/a/services/b/status', {}, 'merge', {
      signal: term.signal,
    });
    await s.received;
    term.abort(new Error('leadership ended'));
    await assert.rejects(call, {
      message: 'PATCH /api/v1/namespaces/a/services/b/status: abandoned: leadership ended',
    });
    await s.cut;
    assert.equal(s.seen.length, 1);
  });

  it('sends nothing when no time is left or the signal is already aborted', async () => {
    const s = await stub((_req, res) => res.end('{}'));
    stubs.push(s);
    await assert.rejects(s.client.get(LEASE, undefined, { timeoutMs: 0 }), {
      message: `GET ${LEASE}: not sent: no time left`,
    });
    await assert.rejects(s.client.create('/api/v1/namespaces/a/events', {}, { timeoutMs: -5 }), /not sent/);
    const done = new AbortController();
    done.abort(new Error('not the leader'));
    await assert.rejects(s.client.delete(`${LEASE}`, { signal: done.signal }), {
      message: `DELETE ${LEASE}: not sent: not the leader`,
    });
    assert.equal(s.seen.length, 0);
    // The same client still works within its limits.
    assert.deepEqual(await s.client.get(LEASE, undefined, { timeoutMs: 1000 }), {});
  });

  it('answers within the limits as without them', async () => {
    const s = await stub((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method }));
    });
    stubs.push(s);
    const term = new AbortController();
    assert.deepEqual(await s.client.replace(LEASE, {}, { timeoutMs: 1000, signal: term.signal }), {
      method: 'PUT',
    });
    // One signal serves every write of a term: each call removes its listener when it ends.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(getEventListeners(term.signal, 'abort').length, 0);
    assert.equal(s.seen.length, 1);
  });
});
