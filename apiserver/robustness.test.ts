import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { readManifests } from './manifests.ts';
import { type ApiServerHandle, startApiServer } from './server.ts';

/** Bad input gets a 4xx Status naming the problem; a 500 (a crash) is a bug. */

let server: ApiServerHandle;
before(async () => {
  server = await startApiServer();
  server.applyObjects(readManifests([new URL('../config/crd/', import.meta.url).pathname]));
  server.applyObjects([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', namespace: 'default' } },
  ]);
});
after(() => server.stop());

async function request(method: string, path: string, body: string, contentType = 'application/json') {
  const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as { kind?: string; message?: string } };
}

const paths = [
  ['POST', '/api/v1/namespaces/default/configmaps'],
  ['POST', '/api/v1/namespaces/default/services'],
  ['POST', '/apis/metalbeacon.io/v1beta1/namespaces/default/ipaddresspools'],
  ['PUT', '/api/v1/namespaces/default/configmaps/target'],
  ['DELETE', '/api/v1/namespaces/default/configmaps/absent'],
] as const;

test('random JSON bodies never make the server fail (no 500), every error is a Status', async () => {
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/) },
    { weight: 1, arbitrary: fc.constantFrom('target', 'Bad Name', '') },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
  // Mostly well-formed metadata so that bodies reach the per-type code, sometimes anything.
  const metadata = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record(
        { name, labels: fc.dictionary(fc.string(), fc.string()) },
        { requiredKeys: ['name'] },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        { name, labels: fc.jsonValue(), finalizers: fc.jsonValue(), ownerReferences: fc.jsonValue() },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
  // Service specs with every field the server reads, each sometimes of the wrong type.
  const anyOr = <T>(a: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 3, arbitrary: a }, { weight: 1, arbitrary: fc.jsonValue() });
  const servicePort = anyOr(
    fc.record(
      {
        name: anyOr(fc.constantFrom('http', 'dns')),
        port: anyOr(fc.integer({ min: -1, max: 70000 })),
        nodePort: anyOr(fc.integer({ min: 29999, max: 32768 })),
        protocol: anyOr(fc.constantFrom('TCP', 'UDP')),
        targetPort: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
  );
  const serviceSpec = fc.record(
    {
      type: anyOr(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Other')),
      clusterIP: anyOr(fc.constantFrom('None', '10.96.0.50', '10.96.0.1', '192.0.2.1', 'x')),
      clusterIPs: anyOr(fc.array(fc.constantFrom('10.96.0.60', 'fd00:10:96::5', 'None'))),
      ipFamilies: anyOr(fc.array(fc.constantFrom('IPv4', 'IPv6', 'IPv5'))),
      ipFamilyPolicy: anyOr(fc.constantFrom('SingleStack', 'PreferDualStack', 'RequireDualStack', 'x')),
      ports: anyOr(fc.array(servicePort, { maxLength: 3 })),
      externalTrafficPolicy: anyOr(fc.constantFrom('Cluster', 'Local')),
      allocateLoadBalancerNodePorts: fc.jsonValue(),
      healthCheckNodePort: fc.jsonValue(),
      selector: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        metadata,
        spec: fc.oneof({ weight: 4, arbitrary: serviceSpec }, { weight: 1, arbitrary: fc.jsonValue() }),
        data: fc.jsonValue(),
        status: fc.jsonValue(),
      },
      { requiredKeys: ['metadata'] },
    ),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), body, async ([method, path], value) => {
      const res = await request(method, path, JSON.stringify(value));
      assert.ok(
        res.status < 500,
        `${method} ${path} ${JSON.stringify(value)} → ${res.status} ${res.body.message}`,
      );
      if (res.status >= 400) assert.equal(res.body.kind, 'Status');
      const table = await fetch(`${server.url}${path.replace(/\/target$/, '')}`, {
        headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
      });
      assert.equal(table.status, method === 'DELETE' ? 404 : 200, 'stored objects always print');
      await table.text();
    }),
    { numRuns: 600 },
  );
});

test('random patches of every type never make the server fail', async () => {
  const types = [
    'application/merge-patch+json',
    'application/json-patch+json',
    'application/strategic-merge-patch+json',
  ];
  const op = fc.record({
    op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
    path: fc.constantFrom(
      '',
      '/',
      '/metadata',
      '/metadata/labels/a',
      '/data',
      '/data/x',
      '/spec/0',
      '/x~1y',
      'nope',
    ),
    from: fc.constantFrom('/data', '/metadata/name', '/missing'),
    value: fc.jsonValue(),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...types),
      fc.oneof(fc.jsonValue(), fc.array(op)),
      async (type, patch) => {
        const res = await request(
          'PATCH',
          '/api/v1/namespaces/default/configmaps/target',
          JSON.stringify(patch),
          type,
        );
        assert.ok(res.status < 500, `${type} ${JSON.stringify(patch)} → ${res.status} ${res.body.message}`);
      },
    ),
    { numRuns: 300 },
  );
});

test('malformed requests are 4xx: bad JSON, bad YAML, unknown paths and content types', async () => {
  assert.equal((await request('POST', '/api/v1/namespaces/default/configmaps', '{')).status, 400);
  assert.equal(
    (
      await request(
        'PATCH',
        '/api/v1/namespaces/default/configmaps/target',
        ': : :',
        'application/apply-patch+yaml',
      )
    ).status,
    400,
  );
  assert.equal(
    (
      await request(
        'POST',
        '/api/v1/namespaces/default/configmaps',
        'x',
        'application/vnd.kubernetes.protobuf',
      )
    ).status,
    415,
  );
  assert.equal(
    (await request('DELETE', '/api/v1/namespaces/default/configmaps/target', '{not json')).status,
    400,
  );
  assert.equal((await request('POST', '/apis/nope.io/v1/things', '{}')).status, 404);
  assert.equal((await request('PUT', '/api/v1/namespaces/default/configmaps', '{}')).status, 405);
});

test('a watcher that stops reading is dropped instead of buffering without bound', async () => {
  const { get } = await import('node:http');
  const res = await new Promise<import('node:http').IncomingMessage>((resolve) =>
    get(
      `${server.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${server.resourceVersion()}`,
      resolve,
    ),
  );
  res.pause();
  const big = 'x'.repeat(1024 * 1024);
  const updates = 48;
  for (let i = 0; i < updates; i++) {
    server.applyObjects([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'big', namespace: 'default' },
        data: { v: `${i}${big}` },
      },
    ]);
    await new Promise((r) => setImmediate(r));
  }
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => {
    text += d;
  });
  res.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      res.destroy();
      reject(new Error('the stuck watcher was never dropped'));
    }, 10_000);
    res.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const events = text.split('\n').filter((l) => l.length > 0);
  assert.ok(events.length > 0, 'it received what was buffered');
  assert.ok(events.length < updates, `the stream ended early (${events.length} of ${updates} events)`);
});

test('protobuf bodies over HTTP: created and answered in protobuf; malformed, truncated or oversized ones are Statuses', async () => {
  const { encodeProtobufObject, decodeProtobufObject } = await import('./protobuf.ts');
  const service = encodeProtobufObject({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'pb-web' },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] },
  })!;
  const post = (body: Buffer, accept = 'application/json') =>
    fetch(`${server.url}/api/v1/namespaces/default/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kubernetes.protobuf', accept },
      body,
    });
  const created = await post(service, 'application/vnd.kubernetes.protobuf,application/json');
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('content-type'), 'application/vnd.kubernetes.protobuf');
  const answer = decodeProtobufObject(Buffer.from(await created.arrayBuffer())) as {
    spec: { clusterIP: string; ports: { nodePort: number }[] };
  };
  assert.match(answer.spec.clusterIP, /^10\./, 'the answer carries the allocated cluster IP');
  assert.ok(answer.spec.ports[0]!.nodePort >= 30000);

  const status = async (res: Response) => ({
    code: res.status,
    ...((await res.json()) as { kind: string; message: string }),
  });
  const truncated = await status(await post(service.subarray(0, service.length - 7)));
  assert.equal(truncated.code, 400);
  assert.equal(truncated.kind, 'Status');
  assert.match(
    truncated.message,
    /^invalid protobuf body \(envelope\): envelope: field 2 says \d+ bytes but \d+ remain/,
  );
  // A length prefix claiming 2 GiB in a 20-byte body.
  const claim = Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    Buffer.from([0x12, 0x80, 0x80, 0x80, 0x80, 0x08]),
    Buffer.alloc(10),
  ]);
  assert.match((await status(await post(claim))).message, /field 2 says 2147483648 bytes but 10 remain/);
  const oversized = Buffer.concat([service, Buffer.alloc(3 * 1024 * 1024)]);
  assert.equal((await post(oversized)).status, 413);
  const notPb = await status(await post(Buffer.from('{"kind":"Service"}')));
  assert.equal(notPb.code, 415);
  assert.match(notPb.message, /no k8s protobuf envelope/);
  assert.equal(
    (await fetch(`${server.url}/api/v1/namespaces/default/services/pb-web`)).status,
    200,
    'still serving',
  );
});
