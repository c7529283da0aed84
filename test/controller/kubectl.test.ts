import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { runTool } from '../support/kubectl.ts';
import { createPool, createService, ipsOf, NS, startBed } from './harness.ts';

describe('what a user sees with kubectl', () => {
  it('pool usage in `kubectl get ipaddresspools`, events in `kubectl describe svc`', async () => {
    const bed = await startBed({ dualStack: true });
    const home = mkdtempSync(join(tmpdir(), 'mb-ctl-kubectl-'));
    try {
      const kubeconfig = join(home, 'kubeconfig');
      bed.server.writeKubeconfig(kubeconfig);
      await createPool(bed, 'lan', { addresses: ['198.51.100.0/24', '2001:db8:100::/120'] });
      await createPool(bed, 'empty', { addresses: ['203.0.113.0/30'], autoAssign: false });
      const controller = await bed.startController();
      await createService(bed, 'ingress', { spec: { ipFamilyPolicy: 'RequireDualStack' } });
      await createService(bed, 'stuck', { annotations: { 'metalbeacon.io/loadBalancerIPs': '192.0.2.1' } });
      await waitFor('ingress served', async () => (await ipsOf(bed, 'ingress')).length === 2);
      await controller.idle();
      const table = await waitFor('pool status in the table', async () => {
        const r = await runTool('kubectl', ['get', 'ipaddresspools', '-n', NS], { home, kubeconfig });
        return r.code === 0 && /lan\s.*\s1\s+255\s+1\s+255/.test(r.stdout) && r.stdout;
      });
      assert.match(table, /ASSIGNED IPV4\s+AVAILABLE IPV4\s+ASSIGNED IPV6\s+AVAILABLE IPV6/);
      assert.match(table, /empty\s.*\s0\s+4\s+0\s+0/);

      const ingress = await runTool('kubectl', ['describe', 'svc', 'ingress'], { home, kubeconfig });
      assert.equal(ingress.code, 0, ingress.stderr);
      assert.match(ingress.stdout, /LoadBalancer Ingress:\s+198\.51\.100\.0, 2001:db8:100::/);
      assert.match(
        ingress.stdout,
        /Normal\s+IPAllocated\s+.*Assigned IP 198\.51\.100\.0, 2001:db8:100:: from pool lan/,
      );
      const stuck = await runTool('kubectl', ['describe', 'svc', 'stuck'], { home, kubeconfig });
      assert.match(stuck.stdout, /Warning\s+LoadBalancerFailed\s+.*192\.0\.2\.1 is in no IPAddressPool/);
    } finally {
      await bed.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
