import { CtcError } from '../../common/error.ts';
import { IDMAP, isDataOption, isFlagOption } from '../../plan/mount-options.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';
import { containerPath, hostPath } from './paths.ts';

const types = new Set(['bind', 'proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2']);

export const isBind = (m: { type: string; options: string[] }) =>
  m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');

export function checkMounts(spec: Spec, origins: Origins): CtcError[] {
  const errors: (CtcError | undefined)[] = [];
  spec.mounts.forEach((m, i) => {
    const at = `mounts[${i}]`;
    const source = originOf(origins, at);
    if (!types.has(m.type)) errors.push(new CtcError('CT_MOUNT_TYPE', `${at}: unknown mount type '${m.type}'`, { source }));
    errors.push(containerPath(m.destination, `${at}.destination`, origins));
    if (m.destination === '/')
      errors.push(
        new CtcError('CT_PATH_ESCAPE', `${at}: cannot mount over the container root`, { source, hint: 'use rootfs for the root' }),
      );
    if (isBind(m)) errors.push(hostPath(m.source, `${at}.source`, origins));
    if (m.options.includes(IDMAP) && (!isBind(m) || !spec.namespaces.includes('user'))) {
      const why = isBind(m) ? 'needs the user namespace, whose mapping it applies' : 'applies only to bind mounts';
      errors.push(
        new CtcError('CT_MOUNT_OPTION', `${at}: 'idmap' ${why}`, {
          source: originOf(origins, `${at}.options[${m.options.indexOf(IDMAP)}]`),
        }),
      );
    }
    m.options.forEach((o, j) => {
      if (!isFlagOption(o) && !isDataOption(o)) {
        errors.push(
          new CtcError('CT_MOUNT_OPTION', `${at}: unknown mount option '${o}'`, { source: originOf(origins, `${at}.options[${j}]`) }),
        );
      }
    });
  });
  return errors.filter((e) => e !== undefined);
}

const propagations = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'];

export function checkRootfsPropagation(spec: Spec, origins: Origins): CtcError[] {
  const p = spec.rootfsPropagation;
  if (p === undefined || propagations.includes(p)) return [];
  return [
    new CtcError('CT_MOUNT_OPTION', `rootfsPropagation '${p}' is not one of ${propagations.join(', ')}`, {
      source: originOf(origins, 'rootfsPropagation'),
    }),
  ];
}
