import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { makeServingCertificates, oid } from './certificates.ts';

describe('makeServingCertificates', () => {
  const now = new Date('2026-12-07T08:00:00Z');
  const certs = makeServingCertificates(['127.0.0.1', '::1', 'localhost'], { now, validDays: 2 });
  const ca = new X509Certificate(certs.caPem);
  const leaf = new X509Certificate(certs.certPem);

  it('makes a self-signed CA that signed the server certificate', () => {
    assert.equal(ca.ca, true);
    assert.equal(ca.verify(ca.publicKey), true);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIssued(ca), true);
    assert.equal(leaf.verify(ca.publicKey), true);
    assert.equal(leaf.subject, 'CN=metalbeacon-apiserver');
    assert.equal(leaf.issuer, 'CN=metalbeacon-apiserver-ca');
  });

  it('names every host in subjectAltName and nothing else', () => {
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkIP('::1'), '::1');
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.equal(leaf.checkIP('192.0.2.1'), undefined);
    assert.equal(leaf.checkHost('example.com'), undefined);
    assert.equal(leaf.subjectAltName, 'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
  });

  it('is valid from an hour before `now` for the days asked', () => {
    assert.equal(new Date(leaf.validFrom).toISOString(), '2026-12-07T07:00:00.000Z');
    assert.equal(new Date(leaf.validTo).toISOString(), '2026-12-09T08:00:00.000Z');
  });

  it('is accepted by a TLS client trusting the CA and refused by one trusting another CA', async () => {
    const fresh = makeServingCertificates(['127.0.0.1']);
    const server = createServer({ cert: fresh.certPem, key: fresh.keyPem }, (socket) => socket.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const trusted = connect({ host: '127.0.0.1', port, ca: fresh.caPem });
      const [chunk] = (await once(trusted, 'data')) as [Buffer];
      assert.equal(chunk.toString(), 'hello');
      trusted.destroy();
      const other = connect({ host: '127.0.0.1', port, ca: makeServingCertificates(['127.0.0.1']).caPem });
      const [error] = (await once(other, 'error')) as [NodeJS.ErrnoException];
      assert.match(String(error.code), /CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    } finally {
      server.close();
    }
  });
});

describe('oid', () => {
  it('encodes arcs above 127 in base-128 groups', () => {
    assert.equal(oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
    assert.equal(oid('2.5.29.17').toString('hex'), '0603551d11');
  });
});
