// User namespace checks: the mappings are what the kernel takes (it refuses
// overlapping ranges), root inside is mapped (the init sets the container up
// as it), and every id the plan gives a process or a file is mapped: an
// unmapped one would fail when the container starts (EINVAL from setuid,
// EOVERFLOW from a create), so it is an error here, at its position. A
// joined user namespace has its own maps: mappings given with it (containerd
// passes the sandbox's) only describe them for these checks; without any,
// the ids are checked by the kernel when the container starts.

import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, type SpecIdMapping, type SpecUser, joinOf, originOf } from '../spec.ts';

/** The kernel's limit on lines in uid_map/gid_map (since 4.15). */
const MAX_LINES = 340;
const MAX_ID = 0xffffffff;

export const isMapped = (maps: readonly SpecIdMapping[], id: number) =>
  maps.some((m) => id >= m.containerID && id < m.containerID + m.size);

export function checkUserns(spec: Spec, user: SpecUser, origins: Origins): CtcError[] {
  const errors: CtcError[] = [];
  const err = (
    code: 'CT_USERNS_MAP' | 'CT_USERNS_UNMAPPED' | 'CT_USERNS_MOUNT' | 'CT_NS_REQUIRED',
    path: string,
    message: string,
    hint?: string,
  ) => errors.push(new CtcError(code, message, { source: originOf(origins, path), ...(hint ? { hint } : {}) }));
  const userns = spec.namespaces.includes('user');
  const kinds = [
    ['uidMappings', spec.uidMappings],
    ['gidMappings', spec.gidMappings],
  ] as const;
  if (!userns) {
    for (const [key, maps] of kinds)
      if (maps.length) err('CT_NS_REQUIRED', key, `${key} needs the 'user' namespace`, "add 'user' to namespaces");
    return errors;
  }
  if (joinOf(spec, 'user') !== undefined && !spec.uidMappings.length && !spec.gidMappings.length) return errors;
  for (const [key, maps] of kinds) checkRanges(maps, key, err);
  if (errors.length) return errors;
  const uid = (id: number, path: string, what: string) => {
    if (!isMapped(spec.uidMappings, id))
      err('CT_USERNS_UNMAPPED', path, `${what}: uid ${id} is not mapped by uidMappings`, mappedHint(spec.uidMappings));
  };
  const gid = (id: number, path: string, what: string) => {
    if (!isMapped(spec.gidMappings, id))
      err('CT_USERNS_UNMAPPED', path, `${what}: gid ${id} is not mapped by gidMappings`, mappedHint(spec.gidMappings));
  };
  uid(0, 'uidMappings', 'root inside the container (the init sets the container up as it)');
  gid(0, 'gidMappings', 'root inside the container (the init sets the container up as it)');
  if (user.name === undefined) {
    uid(user.uid, 'process.user', 'the process user');
    gid(user.gid, 'process.user', 'the process user');
    user.additionalGids.forEach((g, i) => gid(g, `process.user.additionalGids[${i}]`, 'an additional group'));
  }
  spec.devices.forEach((d, i) => {
    uid(d.uid, `devices[${i}]`, `device ${d.path}`);
    gid(d.gid, `devices[${i}]`, `device ${d.path}`);
  });
  spec.mounts.forEach((m, i) => {
    for (const o of m.options) {
      const [k, v] = o.split('=');
      if (k === 'uid') uid(Number(v), `mounts[${i}]`, `the owner of ${m.destination}`);
      if (k === 'gid') gid(Number(v), `mounts[${i}]`, `the group of ${m.destination}`);
    }
    if (m.type === 'sysfs' && !spec.namespaces.includes('network')) {
      err(
        'CT_USERNS_MOUNT',
        `mounts[${i}]`,
        `sysfs at ${m.destination}: in a user namespace the kernel mounts sysfs only with a network namespace of its own`,
        "add 'network' to namespaces, or bind /sys instead",
      );
    }
  });
  return errors;
}

function checkRanges(
  maps: readonly SpecIdMapping[],
  key: string,
  err: (code: 'CT_USERNS_MAP', path: string, message: string, hint?: string) => void,
): void {
  if (maps.length === 0)
    return err(
      'CT_USERNS_MAP',
      key,
      `a user namespace needs ${key}`,
      `map root inside to an unprivileged range: [{ containerID: 0, hostID: 100000, size: 65536 }]`,
    );
  // Refused whole by the kernel: no range of it is worth comparing with the others (n² comparisons, n² errors).
  if (maps.length > MAX_LINES) return err('CT_USERNS_MAP', key, `${key} has ${maps.length} ranges; the kernel takes at most ${MAX_LINES}`);
  maps.forEach((m, i) => {
    const at = `${key}[${i}]`;
    const host = typeof m.hostID === 'number' ? m.hostID : 0;
    if (m.size < 1 || m.containerID < 0 || host < 0 || m.containerID + m.size - 1 > MAX_ID || host + m.size - 1 > MAX_ID) {
      return err('CT_USERNS_MAP', at, `${at}: ids must be 0..${MAX_ID} and size at least 1`);
    }
    if (m.hostID === 'self' && m.size !== 1) err('CT_USERNS_MAP', at, `${at}: hostID 'self' is one id: size must be 1`);
    // The first clash of each range: 340 copies of one range are 339 errors, not 57,000.
    maps.slice(0, i).some((o, j) => {
      if (overlap(m.containerID, o.containerID, m.size, o.size))
        err('CT_USERNS_MAP', at, `${at} maps container ids that ${key}[${j}] maps too`, 'the kernel refuses overlapping ranges');
      else if (m.hostID === o.hostID && typeof m.hostID === 'string')
        err('CT_USERNS_MAP', at, `${at} maps to '${m.hostID}' as ${key}[${j}] does`);
      else if (typeof m.hostID === 'number' && typeof o.hostID === 'number' && overlap(m.hostID, o.hostID, m.size, o.size)) {
        err('CT_USERNS_MAP', at, `${at} maps to host ids that ${key}[${j}] maps to too`, 'the kernel refuses overlapping ranges');
      } else return false;
      return true;
    });
  });
}

const overlap = (a: number, b: number, sa: number, sb: number) => a < b + sb && b < a + sa;

const mappedHint = (maps: readonly SpecIdMapping[]) =>
  `mapped: ${maps.map((m) => `${m.containerID}..${m.containerID + m.size - 1}`).join(', ')}`;
