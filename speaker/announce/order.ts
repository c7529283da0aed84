import { compareText } from '../../shared/config/names.ts';
import { parseIp } from '../../shared/net/ip.ts';

/** Canonical IP texts in address order: IPv4 before IPv6, then by value; non-IPs last by text. */
export function compareIpText(a: string, b: string): number {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x && y) {
    if (x.family !== y.family) return x.family === 'IPv4' ? -1 : 1;
    return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
  }
  if (x) return -1;
  if (y) return 1;
  return compareText(a, b);
}

/** CIDR texts in address order, then shorter prefix first. */
export function comparePrefixText(a: string, b: string): number {
  const [ipA = '', lenA = ''] = a.split('/');
  const [ipB = '', lenB = ''] = b.split('/');
  return compareIpText(ipA, ipB) || Number(lenA) - Number(lenB);
}
