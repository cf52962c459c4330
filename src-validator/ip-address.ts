import { isIPv6 } from 'node:net';

/** An IPv4 address mapped into IPv6 (`::ffff:192.0.2.7`, as dual-stack sockets report it) as plain IPv4. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The eight groups of an IPv6 address as written (`::` filled with '0'); null when it is not IPv6. */
export function ipv6Groups(address: string): string[] | null {
  if (!isIPv6(address)) return null;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  return address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
}
