// A capability the source states but the kernel changes at execve is a
// warning at its source position, with the fix: the plan's after-exec=
// (plan/after-exec.ts) shows what the process really holds.

import { CtcError } from '../../common/error.ts';
import { afterExec, isRootUser } from '../../plan/after-exec.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';

export function afterExecWarnings(spec: Spec, origins: Origins): CtcError[] {
  const p = spec.process;
  const caps = p.capabilities;
  if (!caps) return [];
  const held = afterExec({ ...caps, root: isRootUser(p.user), noNewPrivs: p.noNewPrivileges });
  const stated = [...new Set([...caps.permitted, ...caps.effective])];
  const lost = stated.filter((c) => !held.permitted.includes(c));
  const gained = held.permitted.filter((c) => !caps.permitted.includes(c) || !caps.effective.includes(c));
  const who = p.user.uid >= 0 ? `uid ${p.user.uid}` : `the user ${p.user.name}`;
  const warnings: CtcError[] = [];
  if (lost.length) {
    warnings.push(
      new CtcError(
        'CT_CAP_EXEC',
        `process.capabilities: ${who} loses ${lost.join(', ')} at execve: a process other than root keeps only its ambient capabilities`,
        {
          source: originOf(origins, 'process.capabilities.permitted'),
          hint: `give the capabilities as a list (capabilities: ['${lost.join("', '")}']), which makes them ambient for a user other than root, or add them to inheritable and ambient; else leave them out`,
        },
      ),
    );
  }
  if (gained.length) {
    const nnp = p.noNewPrivileges;
    warnings.push(
      new CtcError(
        'CT_CAP_EXEC',
        `process.capabilities: root gains ${gained.join(', ')} at execve (permitted and effective become bounding + inheritable${nnp ? ', within permitted' : ''})`,
        {
          source: originOf(origins, 'process.capabilities.permitted'),
          hint: `add them to permitted and effective, or drop them from bounding and inheritable${nnp ? '' : ', or set noNewPrivileges'}`,
        },
      ),
    );
  }
  return warnings;
}
