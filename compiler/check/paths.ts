import { CtcError } from '../../common/error.ts';
import { type Origins, originOf } from '../spec.ts';

/**
 * A path inside the container must be absolute and must not climb out with
 * `..`: ctc resolves it beneath the root at run time anyway, but a path that
 * tries to escape is a mistake the author should see.
 */
export function containerPath(path: string, where: string, origins: Origins): CtcError | undefined {
  const source = originOf(origins, where);
  if (!path.startsWith('/')) {
    return new CtcError('CT_PATH_RELATIVE', `${where}: '${path}' must be an absolute path inside the container`, { source });
  }
  if (path.split('/').includes('..')) {
    return new CtcError('CT_PATH_ESCAPE', `${where}: '${path}' climbs with '..'; paths inside the container may not leave the root`, {
      source,
      hint: 'write the path without ..',
    });
  }
  return undefined;
}

/** A cgroup path: absolute, or relative to the parent ctc is given when it runs; never climbing with `..`. */
export function cgroupPath(path: string, origins: Origins): CtcError | undefined {
  if (path !== '' && !path.split('/').includes('..')) return undefined;
  return new CtcError('CT_PATH_ESCAPE', `cgroupsPath '${path}' must be a path without '..'`, { source: originOf(origins, 'cgroupsPath') });
}

/** A host path used by the plan must be absolute: plans do not depend on the directory ctc runs in. */
export function hostPath(path: string, where: string, origins: Origins): CtcError | undefined {
  if (path.startsWith('/') && !path.split('/').includes('..')) return undefined;
  return new CtcError('CT_PATH_RELATIVE', `${where}: host path '${path}' must be absolute, without '..'`, {
    source: originOf(origins, where),
  });
}
