import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Counter, Registry } from '../metrics/metrics.ts';
import { serveEndpoints } from './endpoints.ts';
import { HostPortError } from './host-port.ts';

function registryWithCounter(): { registry: Registry; counter: Counter<string> } {
  const registry = new Registry();
  const counter = new Counter({ name: 'test_things_total', help: 'Things', registers: [registry] });
  return { registry, counter };
}

describe('serveEndpoints on loopback', () => {
  it('serves /metrics, /healthz, /readyz as readiness says, and 404 elsewhere', async () => {
    const { registry, counter } = registryWithCounter();
    counter.inc(3);
    let ready = false;
    const server = await serveEndpoints({ listen: '127.0.0.1:0', registry, ready: () => ready });
    try {
      assert.match(server.address, /^127\.0\.0\.1:[1-9]\d*$/, 'the real port, not 0');
      const base = `http://${server.address}`;
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.equal(metrics.headers.get('content-type'), registry.contentType);
      assert.match(await metrics.text(), /^test_things_total 3$/m);

      const health = await fetch(`${base}/healthz`);
      assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);
      const notReady = await fetch(`${base}/readyz`);
      assert.deepEqual([notReady.status, await notReady.text()], [503, 'not ready\n']);
      ready = true;
      const isReady = await fetch(`${base}/readyz?verbose`);
      assert.deepEqual([isReady.status, await isReady.text()], [200, 'ok\n']);

      const other = await fetch(`${base}/other`);
      assert.equal(other.status, 404);
      assert.match(await other.text(), /try \/metrics/);
    } finally {
      await server.close();
    }
  });

  it('listens on IPv6 loopback and reports the address in brackets; ready by default', async () => {
    const { registry } = registryWithCounter();
    const server = await serveEndpoints({ listen: { host: '::1', port: 0 }, registry });
    try {
      assert.match(server.address, /^\[::1\]:\d+$/);
      assert.equal((await fetch(`http://${server.address}/readyz`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('answers 500 naming the failure when collecting the metrics fails', async () => {
    const registry = new Registry();
    registry.register({
      name: 'broken',
      render: () => Promise.reject(new Error('collector broke')),
    } as unknown as Parameters<Registry['register']>[0]);
    const server = await serveEndpoints({ listen: '127.0.0.1:0', registry });
    try {
      const response = await fetch(`http://${server.address}/metrics`);
      assert.equal(response.status, 500);
      assert.match(await response.text(), /collector broke/);
      assert.equal((await fetch(`http://${server.address}/healthz`)).status, 200, 'still serving');
    } finally {
      await server.close();
    }
  });

  it('rejects bad text before listening, and passes a taken port on as EADDRINUSE', async () => {
    const { registry } = registryWithCounter();
    await assert.rejects(serveEndpoints({ listen: '127.0.0.1', registry }), HostPortError);
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await assert.rejects(serveEndpoints({ listen: `127.0.0.1:${port}`, registry }), { code: 'EADDRINUSE' });
    } finally {
      holder.close();
    }
  });

  it('close() ends the server: the port is free again', async () => {
    const { registry } = registryWithCounter();
    const server = await serveEndpoints({ listen: '127.0.0.1:0', registry });
    const port = Number(server.address.split(':')[1]);
    assert.equal((await fetch(`http://${server.address}/healthz`)).status, 200);
    await server.close();
    const again = await serveEndpoints({ listen: `127.0.0.1:${port}`, registry });
    await again.close();
  });
});
