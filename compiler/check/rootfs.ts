import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';
import { containerPath, hostPath } from './paths.ts';

export function checkRootfs(spec: Spec, origins: Origins): CtcError[] {
  const r = spec.rootfs;
  if (r.kind === 'dir') {
    if (!r.path.startsWith('/')) {
      return [
        new CtcError('CT_ROOTFS_RELATIVE', `rootfs '${r.path}' must be an absolute path`, {
          source: originOf(origins, 'rootfs.path'),
          hint: 'plans do not depend on the directory ctc runs in; give the full path',
        }),
      ];
    }
    return [hostPath(r.path, 'rootfs.path', origins)].filter((e) => e !== undefined);
  }
  if (r.kind === 'image') {
    // relative is fine: to the source when built, to the plan when run
    if (r.archive !== '' && !r.archive.includes('\0')) return [];
    return [
      new CtcError('CT_ROOTFS_RELATIVE', 'rootfs.archive must name an image archive', { source: originOf(origins, 'rootfs.archive') }),
    ];
  }
  const errors = [
    ...r.mirror.map((p, i) => hostPath(p, `rootfs.mirror[${i}]`, origins)),
    ...Object.keys(r.dirs).map((p) => containerPath(p, `rootfs.dirs.${p}`, origins)),
    ...Object.keys(r.files).map((p) => containerPath(p, `rootfs.files.${p}`, origins)),
  ];
  for (const [p, mode] of Object.entries(r.dirs)) {
    if (mode < 0 || mode > 0o7777)
      errors.push(
        new CtcError('CT_LIMIT_RANGE', `rootfs.dirs: mode of ${p} must be 0..07777`, { source: originOf(origins, 'rootfs.dirs') }),
      );
  }
  return errors.filter((e) => e !== undefined);
}
