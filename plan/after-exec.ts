// The capability sets a process holds after its execve, as the kernel
// computes them (capabilities(7), security/commoncap.c cap_bprm_creds_from_file)
// for a program that is neither setuid/setgid nor carries file capabilities.
// The compiler prints them on proc.caps (after-exec=), the executor checks
// that line against the steps, and lint, explain and risk notes reason on
// them: what ctc-init sets before exec is not what the process holds.
//
// A setuid-root program (without no_new_privs) or one with file capabilities
// gains more, up to the bounding set: that depends on the files the process
// runs, which no plan can know (explainAfterExec says so).

import { capabilityNumbers } from '../stdlib/capabilities.ts';
import { type Step, list, str } from './steps.ts';

/** The sets in /proc/<pid>/status's order and names, so a reader can compare them line by line. */
export const statusFields = {
  CapInh: 'inheritable',
  CapPrm: 'permitted',
  CapEff: 'effective',
  CapBnd: 'bounding',
  CapAmb: 'ambient',
} as const;
export type CapSet = (typeof statusFields)[keyof typeof statusFields];
export type CapSets = Record<CapSet, string[]>;

export interface BeforeExec extends CapSets {
  /** uid 0 in the container (no SECBIT_NOROOT: ctc never sets securebits) */
  root: boolean;
  noNewPrivs: boolean;
}

const num = (c: string) => capabilityNumbers[c as keyof typeof capabilityNumbers] ?? 99;
/** A set as the kernel holds it: a bit mask, so in capability-number order, once each. */
const canonical = (caps: Iterable<string>) => [...new Set(caps)].sort((a, b) => num(a) - num(b));
const and = (a: readonly string[], b: readonly string[]) => a.filter((c) => b.includes(c));

/**
 * pA' = pA (the kernel refuses PR_CAP_AMBIENT_RAISE for one not both
 * permitted and inheritable); pI' = pI; pB' = pB. Root (fP and fI all ones,
 * fE set): pP' = pB | pI | pA, pE' = pP'. Anyone else: pP' = pE' = pA'.
 * no_new_privs keeps root from gaining at exec what it did not already
 * permit (pP' is cut to pP); for uid != 0 it changes nothing here, pA being
 * in pP already.
 */
export function afterExec(b: BeforeExec): CapSets {
  const ambient = and(b.ambient, and(b.permitted, b.inheritable));
  let permitted = ambient;
  if (b.root) {
    const gained = [...b.bounding, ...b.inheritable];
    permitted = [...(b.noNewPrivs ? and(gained, b.permitted) : gained), ...ambient];
  }
  return {
    inheritable: canonical(b.inheritable),
    permitted: canonical(permitted),
    effective: canonical(permitted),
    bounding: canonical(b.bounding),
    ambient: canonical(ambient),
  };
}

/** `CapInh:-/CapPrm:CAP_KILL/…`, the after-exec= value; a plain word, so the plan prints it bare. */
export function formatAfterExec(sets: CapSets): string {
  return Object.entries(statusFields)
    .map(([field, set]) => `${field}:${sets[set].length ? sets[set].join(',') : '-'}`)
    .join('/');
}

/**
 * A user named in the plan (looked up in the container's /etc/passwd when it
 * runs) counts as root only when named root: the compiler cannot read an
 * image's or a directory's passwd (docs/features.md: users by name).
 */
export function isRootUser(user: { uid?: number; name?: string }): boolean {
  return user.uid !== undefined && user.uid >= 0 ? user.uid === 0 : user.name === 'root';
}

/** The post-exec sets a plan's own steps give, or undefined when it sets no capabilities (the process keeps the user's). */
export function afterExecOf(steps: readonly Step[]): CapSets | undefined {
  const caps = steps.find((s) => s.kind === 'proc.caps');
  const bounding = steps.find((s) => s.kind === 'proc.bounding');
  if (!caps || !bounding) return undefined;
  const user = steps.find((s) => s.kind === 'proc.user');
  const uid = user && user.args.uid !== undefined ? Number(user.args.uid) : undefined;
  const name = user && str(user, 'name') !== '' ? str(user, 'name') : undefined;
  return afterExec({
    bounding: list(bounding, 'caps'),
    effective: list(caps, 'effective'),
    permitted: list(caps, 'permitted'),
    inheritable: list(caps, 'inheritable'),
    ambient: list(caps, 'ambient'),
    root: isRootUser({ uid, name }),
    noNewPrivs: steps.some((s) => s.kind === 'proc.no-new-privs'),
  });
}

/** What a reader must know beyond the sets: the cases the plan cannot decide. */
export const afterExecCaveat =
  'for a program that is neither setuid nor has file capabilities; such a program gains up to the bounding set unless no_new_privs is set';
