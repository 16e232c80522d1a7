import { defaultMounts } from './mounts.ts';
import type { IdMapping, Mount, Namespace } from './types.ts';

/**
 * Root inside is the user who runs ctc; ids 1..65535 inside are that user's
 * subordinate ids (/etc/subuid, /etc/subgid), so an image's other owners
 * map too. Looked up when the container starts.
 */
export const rootlessMappings: readonly IdMapping[] = [
  { containerID: 0, hostID: 'self', size: 1 },
  { containerID: 1, hostID: 'subordinate', size: 65535 },
];

/**
 * What a container needs to run as an ordinary user (spread it into the
 * definition: `container({ ...rootless, rootfs, process })`): a user
 * namespace owning the others, the mappings above, and the default mounts
 * but the cgroup one (an ordinary user seldom has a cgroup to show). The
 * network is lo only, the default (or join one by path: network.join).
 */
export const rootless: {
  readonly namespaces: readonly Namespace[];
  readonly uidMappings: readonly IdMapping[];
  readonly gidMappings: readonly IdMapping[];
  readonly mounts: readonly Mount[];
} = {
  namespaces: ['user', 'mount', 'uts', 'ipc', 'pid', 'network', 'cgroup'],
  uidMappings: rootlessMappings,
  gidMappings: rootlessMappings,
  mounts: defaultMounts.filter((m) => m.type !== 'cgroup'),
};
