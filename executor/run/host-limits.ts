// What a plan asks that this host's kernel will not give, found before the
// first step: rlimits above the hard limits ctc itself has, when it cannot
// raise them, and capability sets the plan states but the kernel would not
// leave the process after its exec.

import { readFileSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { afterExecOf, formatAfterExec } from '../../plan/after-exec.ts';
import { type Step, str } from '../../plan/steps.ts';
import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { rlimitNumbers } from '../../stdlib/rlimits.ts';

/** The hard limits of this process, by resource number: /proc/self/limits lists them in that order. -1 is unlimited. */
export function hardLimits(text = readFileSync('/proc/self/limits', 'utf8')): number[] {
  return text
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const hard = line.slice(46).trim().split(/\s+/)[0];
      return hard === 'unlimited' ? -1 : Number(hard);
    });
}

function hasCapability(cap: keyof typeof capabilityNumbers): boolean {
  const eff = /^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${eff}`) >> BigInt(capabilityNumbers[cap])) & 1n) === 1n;
}

/** CAP_SYS_RESOURCE counts in the host's user namespace only: a plan with its own user namespace cannot raise a hard limit. */
const ownUserns = (steps: readonly Step[]) => steps.some((s) => s.kind === 'user.map' || (s.kind === 'ns.join' && str(s, 'ns') === 'user'));

/**
 * setrlimit refuses (EPERM) a hard limit above the current one without
 * CAP_SYS_RESOURCE; ctc-init has ctc's limits. Refused here, naming the
 * limit, rather than at the step after the host's were done.
 */
export function checkRlimits(
  steps: readonly Step[],
  hard = hardLimits(),
  canRaise = hasCapability('CAP_SYS_RESOURCE') && !ownUserns(steps),
): void {
  if (canRaise) return;
  for (const s of steps) {
    if (s.kind !== 'proc.rlimit') continue;
    const type = str(s, 'type');
    const max = hard[rlimitNumbers[type as keyof typeof rlimitNumbers]];
    if (max === undefined || max === -1) continue;
    const asked = str(s, 'hard');
    if (asked !== 'unlimited' && Number(asked) <= max) continue;
    throw new CtcError(
      'CT_RLIMIT_HARD',
      `${type}: the hard limit asked, ${asked}, is above this host's hard limit ${max}, and ctc cannot raise it (no CAP_SYS_RESOURCE${ownUserns(steps) ? ' outside the user namespace' : ''})`,
      {
        step: { n: s.n, kind: s.kind },
        source: s.source,
        hint: `ask for at most ${max}, or raise the host's hard limit for ctc (ulimit -H, systemd LimitNOFILE=…)`,
      },
    );
  }
}

/** A plan's after-exec= must be what its own steps give: a reviewer reads it as what the process holds. */
export function checkAfterExec(steps: readonly Step[]): void {
  const s = steps.find((x) => x.kind === 'proc.caps');
  const stated = s && str(s, 'after-exec');
  if (!s || !stated) return;
  const held = afterExecOf(steps);
  const want = held && formatAfterExec(held);
  if (stated !== want) {
    throw new CtcError(
      'CT_PLAN_INVALID',
      `after-exec=${stated} is not what the plan's capability steps leave the process after its exec (${want ?? 'no bounding step'})`,
      {
        step: { n: s.n, kind: s.kind },
        source: s.source,
        hint: 'plans are built by ctc build, not written: rebuild it from its source',
      },
    );
  }
}
