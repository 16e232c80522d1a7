// Static IPAM for a bridge: a container with addresses: 'auto' gets the
// first free address of each of the bridge's subnets. An address is taken
// by creating <state root>/@ipam/<bridge>/<address> with O_EXCL, holding the
// container id: the kernel makes that create atomic, so two containers
// starting at once never get the same address, with no lock to leak. ('@'
// is not allowed in container ids, so the folder is never taken for one.)

import { mkdirSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inetText, lastOf, network, parseCidr } from '../../plan/inet.ts';
import { codeOf } from '../../common/errno.ts';

export const ipamDir = (root: string, bridge: string) => join(root, '@ipam', bridge);

/** IPv6 subnets are searched this far: a bridge never has more containers. */
const MAX_TRIES = 65536n;

export interface Claim {
  family: 4 | 6;
  address: string;
  file: string;
}

/**
 * Claims the first free address of the subnet that the bridge address
 * `bridgeCidr` is in (the bridge's own, the network and broadcast addresses
 * excepted). `record` is called with the file before it is created, for the
 * journal.
 */
export function claimAddress(root: string, bridge: string, bridgeCidr: string, id: string, record: (file: string) => void): Claim {
  const c = parseCidr(bridgeCidr)!;
  const dir = ipamDir(root, bridge);
  const first = network(c) + 1n;
  const last = c.family === 4 && c.prefix < 31 ? lastOf(c) - 1n : lastOf(c);
  for (let v = first; v <= last && v - first < MAX_TRIES; v++) {
    if (v === c.value) continue;
    const address = inetText({ family: c.family, value: v });
    const file = join(dir, address);
    record(file);
    if (create(file, id)) return { family: c.family, address, file };
  }
  throw Object.assign(new Error(`no free address left in ${inetText({ family: c.family, value: network(c) })}/${c.prefix} on ${bridge}`), {
    code: 'ENOSPC',
  });
}

/** true if the file is ours now; false if another container holds it. */
function create(file: string, id: string): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, id);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (e) {
      if (codeOf(e) === 'EEXIST') return false;
      // another container's release removed the empty folder in between: make it again
      if (codeOf(e) !== 'ENOENT' || attempt > 5) throw e;
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    }
  }
}

/** Gives an address back if this container holds it; the folders go when they are empty. */
export function releaseAddress(file: string, id: string): void {
  let holder: string;
  try {
    holder = readFileSync(file, 'utf8');
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return;
    throw e;
  }
  if (holder !== id) return;
  unlinkSync(file);
  for (const dir of [dirname(file), dirname(dirname(file))]) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (or gone): someone else's addresses are there
    }
  }
}
