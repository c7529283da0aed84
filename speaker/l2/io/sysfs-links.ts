import { readdir, readFile } from 'node:fs/promises';
import type { LinkInfo } from '../links/select-interfaces.ts';
import { linkFromSysfs } from '../links/sysfs-link.ts';

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * Reads the interfaces of this network namespace from sysfs (no extra tools needed).
 * `wanted` skips names early: a node with hundreds of pod veths need not read them all.
 */
export async function readLinks(
  sysfsNet = '/sys/class/net',
  wanted: (name: string) => boolean = () => true,
): Promise<LinkInfo[]> {
  const names = await readdir(sysfsNet);
  const links: LinkInfo[] = [];
  for (const name of names.sort()) {
    if (!wanted(name)) continue;
    const dir = `${sysfsNet}/${name}`;
    const [ifindex, address, type, flags, operstate, hasMaster] = await Promise.all([
      readText(`${dir}/ifindex`),
      readText(`${dir}/address`),
      readText(`${dir}/type`),
      readText(`${dir}/flags`),
      readText(`${dir}/operstate`),
      readdir(`${dir}/master`).then(
        () => true,
        () => false,
      ),
    ]);
    const link = linkFromSysfs(name, { ifindex, address, type, flags, operstate, hasMaster });
    if (link) links.push(link);
  }
  return links;
}
