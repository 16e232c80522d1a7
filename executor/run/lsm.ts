// Which Linux security modules this host runs. A plan that asks for an
// AppArmor profile or an SELinux label is refused where the LSM is absent:
// running the container unconfined instead would be a silent downgrade.

import { existsSync, readFileSync } from 'node:fs';

export type Lsm = 'apparmor' | 'selinux';

export function lsmActive(lsm: Lsm): boolean {
  if (lsm === 'selinux') return existsSync('/sys/fs/selinux/enforce');
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y' && existsSync('/sys/kernel/security/apparmor');
  } catch {
    return false;
  }
}

/** The LSMs a plan's steps need. */
export function lsmsNeeded(steps: { kind: string; args: Record<string, unknown> }[]): Lsm[] {
  const need = new Set<Lsm>();
  for (const s of steps) {
    if (s.kind === 'proc.apparmor') need.add('apparmor');
    if (s.kind === 'proc.selinux' || (s.kind === 'mount.fs' && String(s.args.data ?? '').includes('context='))) need.add('selinux');
  }
  return [...need];
}

export const lsmName: Record<Lsm, string> = { apparmor: 'AppArmor', selinux: 'SELinux' };
