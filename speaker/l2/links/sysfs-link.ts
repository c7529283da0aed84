import type { LinkInfo } from './select-interfaces.ts';

/** One interface's sysfs attributes (`/sys/class/net/NAME/*`), trimmed; undefined when unreadable. */
export interface SysfsLinkFiles {
  readonly ifindex: string | undefined;
  readonly address: string | undefined;
  readonly type: string | undefined;
  /** Hexadecimal, e.g. `0x1003`. */
  readonly flags: string | undefined;
  readonly operstate: string | undefined;
  /** Whether `NAME/master` exists (the link is a bridge or bond member). */
  readonly hasMaster: boolean;
}

// linux/if.h
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

/**
 * What the announcer needs to know of interface `name`, from its sysfs attributes;
 * undefined when the interface vanished while they were read (no ifindex or flags).
 */
export function linkFromSysfs(name: string, files: SysfsLinkFiles): LinkInfo | undefined {
  if (files.ifindex === undefined || files.flags === undefined) return undefined;
  const flagBits = Number.parseInt(files.flags, 16);
  return {
    name,
    ifindex: Number(files.ifindex),
    mac: (files.address ?? '').toLowerCase(),
    type: Number(files.type ?? 0),
    up: (flagBits & IFF_UP) !== 0,
    running: files.operstate === 'up' || files.operstate === 'unknown',
    loopback: (flagBits & IFF_LOOPBACK) !== 0,
    noArp: (flagBits & IFF_NOARP) !== 0,
    enslaved: files.hasMaster,
  };
}
