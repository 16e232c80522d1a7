// Checks: a spec that passes them can be lowered and run; one that does not
// is refused with every problem found, each at its source position.

import { throwAll } from '../../common/error.ts';
import type { Origins, Spec } from '../spec.ts';
import { checkAnnotations, checkHooks } from './hooks.ts';
import { checkMounts, checkRootfsPropagation } from './mounts.ts';
import { checkNamespaces } from './namespaces.ts';
import { checkNul } from './nul.ts';
import { checkNetwork } from './network.ts';
import { checkProcess, resolveUser } from './process.ts';
import { checkResources } from './resources.ts';
import { checkRootfs } from './rootfs.ts';
import { cgroupPath } from './paths.ts';
import { checkPathsAndDevices, checkSecurity } from './security.ts';
import { checkSysctl } from './sysctl.ts';
import { checkSeccomp } from './seccomp.ts';
import { checkUserns } from './userns.ts';

/** Returns the spec with users resolved, or throws everything wrong with it. */
export function check(spec: Spec, origins: Origins): Spec {
  const user = resolveUser(spec, origins);
  const errors = [
    ...checkNul(spec, origins),
    ...checkRootfs(spec, origins),
    ...checkNamespaces(spec, origins),
    ...checkNetwork(spec, origins),
    ...checkUserns(spec, user instanceof Error ? spec.process.user : user, origins),
    ...checkMounts(spec, origins),
    ...checkRootfsPropagation(spec, origins),
    ...checkProcess(spec, origins),
    ...checkResources(spec, origins),
    ...checkSecurity(spec, origins),
    ...checkPathsAndDevices(spec, origins),
    ...checkSysctl(spec, origins),
    ...checkSeccomp(spec, origins),
    ...checkHooks(spec, origins),
    ...checkAnnotations(spec, origins),
    cgroupPath(spec.cgroupsPath, origins),
    ...(user instanceof Error ? [user] : []),
  ].filter((e) => e !== undefined);
  throwAll(errors);
  return { ...spec, process: { ...spec.process, user: user as Exclude<typeof user, Error> } };
}
