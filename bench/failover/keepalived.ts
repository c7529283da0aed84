import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lab, type LabDaemon, type LabLink, untilExit } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

/** A node of the lab as the keepalived anchor sees it. */
export interface VrrpNode {
  /** Node name (what its HTTP server answers). */
  name: string;
  /** Short namespace name in the Lab. */
  short: string;
  /** LAN interface inside the node namespace. */
  ifName: string;
  /** Its link to the LAN bridge (cut to fail the node). */
  link: LabLink;
}

/** keepalived VRRP configuration of one run. */
export interface VrrpSettings {
  /** Seconds between adverts: 1 is keepalived's default (VRRPv2); below 1 needs VRRPv3. */
  advertInt: number;
  /** The virtual IP, e.g. 198.51.100.200. */
  vip: string;
}

/**
 * keepalived.conf for one node. The first node gets the highest priority and starts as
 * MASTER; the others are BACKUP with falling priorities, as a typical two- or three-node
 * keepalived deployment. Everything else keeps keepalived's defaults (VRRPv2 multicast
 * adverts, preemption on), except `vrrp_version 3` when the advert interval is below a
 * second (RFC 5798 §5.2.7: centiseconds; VRRPv2 only has whole seconds).
 */
export function keepalivedConfig(node: VrrpNode, index: number, settings: VrrpSettings): string {
  const v3 = settings.advertInt < 1;
  return [
    'global_defs {',
    `  router_id ${node.name}`,
    '  enable_script_security',
    v3 ? '  vrrp_version 3' : '',
    '}',
    'vrrp_instance MB {',
    `  state ${index === 0 ? 'MASTER' : 'BACKUP'}`,
    `  interface ${node.ifName}`,
    '  virtual_router_id 51',
    `  priority ${150 - index * 50}`,
    `  advert_int ${settings.advertInt}`,
    '  virtual_ipaddress {',
    `    ${settings.vip}/32 dev ${node.ifName}`,
    '  }',
    '}',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** keepalived running on every node; `stop()` ends them all (by PID) and removes the files. */
export interface KeepalivedCluster {
  daemons: LabDaemon[];
  /** The node holding the VIP (waits until exactly one does). */
  master(timeoutMs?: number): Promise<VrrpNode>;
  stop(): Promise<void>;
}

/** Starts keepalived (Debian package) in each node namespace, VRRP only, in the foreground. */
export function startKeepalived(
  lab: Lab,
  nodes: readonly VrrpNode[],
  settings: VrrpSettings,
): KeepalivedCluster {
  const dir = mkdtempSync(join(tmpdir(), 'mb-keepalived-'));
  const daemons = nodes.map((node, index) => {
    const conf = join(dir, `${node.name}.conf`);
    writeFileSync(conf, keepalivedConfig(node, index, settings));
    // -n: stay in the foreground as our child; -P: VRRP only; own PID files per node, because
    // keepalived refuses to start when the (host-wide) default PID file names a live process.
    return lab.spawn(node.short, [
      'keepalived',
      '-n',
      '-l',
      '-G',
      '-P',
      '-f',
      conf,
      '-p',
      join(dir, `${node.name}.pid`),
      '-r',
      join(dir, `${node.name}.vrrp.pid`),
      '-c',
      join(dir, `${node.name}.checkers.pid`),
    ]);
  });
  const holds = async (node: VrrpNode): Promise<boolean> => {
    const { stdout } = await lab.ip(node.short, ['-o', '-4', 'addr', 'show', 'dev', node.ifName]);
    return stdout.includes(` ${settings.vip}/32 `);
  };
  return {
    daemons,
    async master(timeoutMs = 15_000) {
      return waitFor(
        `a keepalived MASTER holding ${settings.vip}`,
        async () => {
          const holders: VrrpNode[] = [];
          for (const node of nodes) if (await holds(node)) holders.push(node);
          return holders.length === 1 ? holders[0] : undefined;
        },
        {
          timeoutMs,
          intervalMs: 100,
          signal: AbortSignal.any(daemons.map((d) => untilExit(d, 'keepalived'))),
        },
      );
    },
    async stop() {
      await Promise.all(daemons.map((d) => d.stop(3_000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
