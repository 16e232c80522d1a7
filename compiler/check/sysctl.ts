import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';

/**
 * Which kernel parameters a container may set, and the namespace that makes
 * each one its own: everything else is global and would change the host.
 */
function namespaceOf(key: string): string | undefined {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

export function checkSysctl(spec: Spec, origins: Origins): CtcError[] {
  const errors: CtcError[] = [];
  for (const key of Object.keys(spec.sysctl)) {
    const source = originOf(origins, `sysctl.${key}`);
    const ns = namespaceOf(key);
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(key)) {
      errors.push(new CtcError('CT_SYSCTL', `sysctl '${key}' is not a kernel parameter name`, { source }));
    } else if (!ns) {
      errors.push(
        new CtcError('CT_SYSCTL', `sysctl ${key} is not namespaced: setting it would change the host for everyone`, {
          source,
          hint: 'containers may set kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, and net.* with their own network namespace',
        }),
      );
    } else if (!spec.namespaces.includes(ns as never)) {
      errors.push(
        new CtcError('CT_SYSCTL', `sysctl ${key} belongs to the ${ns} namespace, which this container does not have its own of`, {
          source,
          hint: `add '${ns}' to namespaces`,
        }),
      );
    }
  }
  return errors;
}
