// Plans are host-independent: the container id and its state dir are
// written as {id} and {state} and filled in here, when the plan runs, in
// the arguments the step table marks as places (never in a command line).
// {idhash} is 8 hex digits of the id's sha256: short enough for names with
// a limit (a host interface has 15 bytes), and the same for the same id.

import { createHash } from 'node:crypto';
import { type ArgSpec, type KindSpec, type Step, stepKinds } from '../compiler/plan/steps.ts';

export interface RunPlace {
  id: string;
  state: string;
  /** where a relative cgroup path goes: CTC_CGROUP_PARENT, /ctc by default */
  cgroupParent: string;
}

export const cgroupParent = () => process.env.CTC_CGROUP_PARENT || '/ctc';

/** Addresses net.ipam gave out, filled into the steps after it: {ipv4:eth0} → 10.88.0.2. */
export function fillAddresses(step: Step, addresses: ReadonlyMap<string, string>): Step {
  const fill = (v: string) => v.replace(/\{ipv[46]:[^}]+\}/g, (m) => addresses.get(m) ?? m);
  const args = { ...step.args };
  for (const a of (stepKinds[step.kind] as KindSpec).args as readonly ArgSpec[]) {
    const v = args[a.name];
    if (!a.placeholders) continue;
    if (typeof v === 'string') args[a.name] = fill(v);
    else if (Array.isArray(v)) args[a.name] = (v as string[]).map(fill);
  }
  return { ...step, args };
}

export function fillStep(step: Step, p: RunPlace): Step {
  const args = { ...step.args };
  for (const a of (stepKinds[step.kind] as KindSpec).args as readonly ArgSpec[]) {
    const v = args[a.name];
    if (!a.placeholders || typeof v !== 'string') continue;
    const filled = v.replaceAll('{state}', p.state).replaceAll('{idhash}', idHash(p.id)).replaceAll('{id}', p.id);
    const relativeCgroup = (step.kind.startsWith('cgroup.') || step.kind === 'mount.cgroup') && a.name === 'path' && !filled.startsWith('/');
    args[a.name] = relativeCgroup ? `${p.cgroupParent.replace(/\/$/, '')}/${filled}` : filled;
  }
  return { ...step, args };
}

export const idHash = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 8);
