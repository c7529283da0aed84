import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { createPool, createService, ipsOf, withBed } from './harness.ts';

const BIN = new URL('../../bin/metalbeacon.js', import.meta.url).pathname;

describe('metalbeacon controller: command line and metrics', () => {
  it('an unreachable API server gives one clear line and a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-ctl-cli-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      // Port 1 on loopback: nothing listens there.
      writeFileSync(
        kubeconfig,
        'apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster:\n    server: http://127.0.0.1:1\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context: {cluster: x, user: u}\ncurrent-context: c\n',
      );
      const run = spawnSync(
        process.execPath,
        [BIN, '--kubeconfig', kubeconfig, 'controller', '--metrics-listen', '127.0.0.1:0'],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      assert.notEqual(run.status, 0);
      const lines = run.stderr.trim().split('\n');
      assert.match(
        lines[0] ?? '',
        /^error: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:1/,
      );
      assert.ok(lines.length <= 2, `expected one error line and a hint, got:\n${run.stderr}`);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves /healthz, /readyz and /metrics with pool, failure and leader figures', async () => {
    await withBed(async (bed) => {
      await createPool(bed, 'one', { addresses: ['198.51.100.7/32'] });
      const controller = await bed.startController({ metricsListen: '127.0.0.1:0' });
      await createService(bed, 'first');
      await createService(bed, 'second');
      await waitFor(
        'first served',
        async () => (await ipsOf(bed, 'first')).length > 0 || (await ipsOf(bed, 'second')).length > 0,
      );
      await controller.idle();
      const base = `http://${controller.metricsAddress}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const text = await waitFor('metrics', async () => {
        const body = await (await fetch(`${base}/metrics`)).text();
        return (
          /metalbeacon_allocator_addresses_in_use_total\{pool="one",family="IPv4"\} 1/.test(body) && body
        );
      });
      assert.match(text, /metalbeacon_allocator_addresses_total\{pool="one",family="IPv4"\} 1/);
      assert.match(text, /metalbeacon_allocator_failures_total\{reason="Exhausted"\} 1/);
      assert.match(text, /metalbeacon_controller_is_leader_bool 1/);
      assert.match(text, /metalbeacon_controller_config_loaded_bool 1/);
      assert.match(text, /metalbeacon_controller_config_stale_bool 0/);
      assert.match(text, /metalbeacon_controller_reconciles_total\{result="ok"\} \d+/);
      assert.match(text, /metalbeacon_controller_reconcile_duration_seconds_count \d+/);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    });
  });
});
