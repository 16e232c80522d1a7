// What is checked against this host before a plan's first step, so that a
// plan this kernel cannot honour fails with nothing created: capabilities
// the kernel does not know, rlimits above what ctc can set (host-limits.ts),
// and LSM labels without the LSM.

import { readFileSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { type Step, list } from '../../plan/steps.ts';
import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { checkAfterExec, checkRlimits } from './host-limits.ts';
import { lsmActive, lsmName, lsmsNeeded } from './lsm.ts';
import { seccompProgram } from '../native-bridge/wire.ts';

function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  } catch {
    return 40;
  }
}

export function preflight(steps: Step[]): void {
  for (const s of steps) if (s.kind === 'proc.seccomp') seccompProgram(s);
  const last = lastCap();
  for (const s of steps) {
    if (s.kind !== 'proc.bounding' && s.kind !== 'proc.caps') continue;
    const sets = s.kind === 'proc.bounding' ? ['caps'] : ['effective', 'permitted', 'inheritable', 'ambient'];
    const unknown = sets
      .flatMap((set) => list(s, set))
      .filter((c) => (capabilityNumbers[c as keyof typeof capabilityNumbers] ?? 99) > last);
    if (unknown.length) {
      throw new CtcError(
        'CT_CAP_UNKNOWN',
        `this kernel does not know ${[...new Set(unknown)].join(', ')} (its last capability is number ${last})`,
        {
          step: { n: s.n, kind: s.kind },
          source: s.source,
          hint: 'leave those capabilities out, or run on a newer kernel',
        },
      );
    }
  }
  checkAfterExec(steps);
  checkRlimits(steps);
  for (const lsm of lsmsNeeded(steps)) {
    if (!lsmActive(lsm)) {
      const s = steps.find((x) => lsmsNeeded([x]).includes(lsm))!;
      throw new CtcError('CT_LSM_ABSENT', `the plan asks for an ${lsmName[lsm]} label, but ${lsmName[lsm]} is not active on this host`, {
        step: { n: s.n, kind: s.kind },
        source: s.source,
        hint: `run it on a host with ${lsmName[lsm]}, or remove the label from the source; ctc never runs a container unconfined in its place`,
      });
    }
  }
}
