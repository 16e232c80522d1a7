import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';
import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { rlimitNumbers } from '../../stdlib/rlimits.ts';
import { containerPath } from './paths.ts';

/** Capabilities, rlimits, umask, oom score: what the process may do. */
export function checkSecurity(spec: Spec, origins: Origins): CtcError[] {
  const p = spec.process;
  const at = (path: string) => originOf(origins, path);
  const errors: CtcError[] = [];
  if (p.capabilities) {
    for (const [set, caps] of Object.entries(p.capabilities)) {
      (caps as string[]).forEach((c, i) => {
        if (!Object.hasOwn(capabilityNumbers, c)) {
          errors.push(
            new CtcError('CT_CAP_UNKNOWN', `process.capabilities.${set}: unknown capability '${c}'`, {
              source: at(`process.capabilities.${set}[${i}]`),
            }),
          );
        }
      });
    }
  }
  const seen = new Set<string>();
  p.rlimits.forEach((r, i) => {
    const path = `process.rlimits[${i}]`;
    if (!Object.hasOwn(rlimitNumbers, r.type))
      errors.push(new CtcError('CT_RLIMIT_UNKNOWN', `${path}: unknown rlimit '${r.type}'`, { source: at(path) }));
    else if (seen.has(r.type)) errors.push(new CtcError('CT_RLIMIT_UNKNOWN', `${path}: ${r.type} is set twice`, { source: at(path) }));
    seen.add(r.type);
    const infinite = (n: number) => n === -1;
    if (
      r.soft < -1 ||
      r.hard < -1 ||
      (infinite(r.soft) && !infinite(r.hard)) ||
      (!infinite(r.hard) && !infinite(r.soft) && r.soft > r.hard)
    ) {
      errors.push(
        new CtcError('CT_LIMIT_RANGE', `${path}: the soft limit of ${r.type} must not exceed the hard limit`, { source: at(path) }),
      );
    }
  });
  if (p.parentDeathSignal !== undefined && !/^SIG(HUP|INT|QUIT|KILL|USR1|USR2|TERM|PWR)$/.test(p.parentDeathSignal)) {
    errors.push(
      new CtcError('CT_SHAPE', `process.parentDeathSignal: '${p.parentDeathSignal}' is not a signal ctc sends`, {
        source: at('process.parentDeathSignal'),
      }),
    );
  }
  if (p.umask !== undefined && (p.umask < 0 || p.umask > 0o777)) {
    errors.push(new CtcError('CT_LIMIT_RANGE', `process.umask must be 0..0777`, { source: at('process.umask') }));
  }
  if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000)) {
    errors.push(new CtcError('CT_LIMIT_RANGE', `process.oomScoreAdj must be -1000..1000`, { source: at('process.oomScoreAdj') }));
  }
  return errors;
}

/** Masked and read-only paths, device nodes and device cgroup rules. */
export function checkPathsAndDevices(spec: Spec, origins: Origins): CtcError[] {
  const errors: (CtcError | undefined)[] = [
    ...spec.maskedPaths.map((p, i) => containerPath(p, `maskedPaths[${i}]`, origins)),
    ...spec.readonlyPaths.map((p, i) => containerPath(p, `readonlyPaths[${i}]`, origins)),
  ];
  spec.devices.forEach((d, i) => {
    const path = `devices[${i}]`;
    errors.push(containerPath(d.path, `${path}.path`, origins));
    if (!['c', 'b', 'p'].includes(d.type))
      errors.push(new CtcError('CT_DEVICE', `${path}: type must be c, b or p`, { source: originOf(origins, path) }));
    if (d.mode < 0 || d.mode > 0o7777)
      errors.push(new CtcError('CT_DEVICE', `${path}: mode must be 0..07777`, { source: originOf(origins, path) }));
  });
  spec.resources.devices.forEach((r, i) => {
    const path = `resources.devices[${i}]`;
    if (!['a', 'c', 'b'].includes(r.type) || !/^[rwm]{1,3}$/.test(r.access) || r.major < -1 || r.minor < -1) {
      errors.push(
        new CtcError('CT_DEVICE', `${path}: a rule is type a, c or b, numbers or none, and access of r, w, m`, {
          source: originOf(origins, path),
        }),
      );
    }
  });
  return errors.filter((e) => e !== undefined);
}
