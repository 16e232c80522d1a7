// What runc accepts and quietly makes harmless, ctc accepts too, but says so
// and writes into the plan only what will really happen: a plan is what the
// container gets. Each adjustment is a warning at its source position.

import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';

export interface Relaxed {
  spec: Spec;
  warnings: CtcError[];
}

export function relax(spec: Spec, origins: Origins): Relaxed {
  const warnings: CtcError[] = [];
  const caps = spec.process.capabilities;
  if (!caps) return { spec, warnings };
  // The kernel raises an ambient capability only if it is permitted and
  // inheritable; runc tries and ignores the refusal (its own `runc spec`
  // lists ambient capabilities with no inheritable set).
  const kept = caps.ambient.filter((c) => caps.permitted.includes(c) && caps.inheritable.includes(c));
  const dropped = caps.ambient.filter((c) => !kept.includes(c));
  if (dropped.length === 0) return { spec, warnings };
  warnings.push(
    new CtcError(
      'CT_CAP_AMBIENT',
      `process.capabilities.ambient: ${dropped.join(', ')} left out: not both permitted and inheritable, so the kernel would never raise them`,
      {
        source: originOf(origins, 'process.capabilities.ambient'),
        hint: 'add them to permitted and inheritable to have them, or remove them from ambient',
      },
    ),
  );
  return { spec: { ...spec, process: { ...spec.process, capabilities: { ...caps, ambient: kept } } }, warnings };
}
