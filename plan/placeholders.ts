// Plans are host-independent: the container id, its state dir and the state
// root are written as {id}, {state} and {root} and filled in here, when the plan runs, in
// the arguments the step table marks as places (never in a command line).
// {idhash} is 8 hex digits of the id's sha256: short enough for names with
// a limit (a host interface has 15 bytes), and the same for the same id.

import { createHash } from 'node:crypto';
import { type ArgSpec, type KindSpec, type Step, stepKinds } from './steps.ts';

export interface RunPlace {
  id: string;
  state: string;
  /** the state root: where the image cache is */
  root: string;
  /** where a relative cgroup path goes: CTC_CGROUP_PARENT, /ctc by default */
  cgroupParent: string;
}

export const cgroupParent = () => process.env.CTC_CGROUP_PARENT || '/ctc';

/** The step with fill applied to every argument the step table marks as a place (a string, or each of a list). */
function mapPlaces(step: Step, fill: (v: string, name: string) => string): Step {
  const args = { ...step.args };
  for (const a of (stepKinds[step.kind] as KindSpec).args as readonly ArgSpec[]) {
    const v = args[a.name];
    if (!a.placeholders) continue;
    if (typeof v === 'string') args[a.name] = fill(v, a.name);
    else if (Array.isArray(v)) args[a.name] = (v as string[]).map((x) => fill(x, a.name));
  }
  return { ...step, args };
}

/** Addresses net.ipam gave out, filled into the steps after it: {ipv4:eth0} → 10.88.0.2. */
export const fillAddresses = (step: Step, addresses: ReadonlyMap<string, string>): Step =>
  mapPlaces(step, (v) => v.replace(/\{ipv[46]:[^}]+\}/g, (m) => addresses.get(m) ?? m));

export function fillStep(step: Step, p: RunPlace): Step {
  const relativeCgroup = step.kind.startsWith('cgroup.') || step.kind === 'mount.cgroup';
  return mapPlaces(step, (v, name) => {
    // the hash only where a plan names it (net.veth, net.publish): not once per argument of every step
    const hashed = v.includes('{idhash}') ? v.replaceAll('{idhash}', idHash(p.id)) : v;
    const filled = hashed.replaceAll('{state}', p.state).replaceAll('{root}', p.root).replaceAll('{id}', p.id);
    return relativeCgroup && name === 'path' && !filled.startsWith('/') ? `${p.cgroupParent.replace(/\/$/, '')}/${filled}` : filled;
  });
}

export const idHash = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 8);
