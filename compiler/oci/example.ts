// The config `ctc spec` writes: runc's example spec (libcontainer/specconv
// Example and ToRootless), with ctc's own presets for what the stdlib
// already knows (mounts, masked and read-only paths, device rules,
// namespaces), so each of those facts stays in one place.

import { defaultDeviceRules } from '../../stdlib/devices.ts';
import { defaultMounts } from '../../stdlib/mounts.ts';
import { defaultNamespaces } from '../../stdlib/namespaces.ts';
import { maskedPaths, readonlyPaths } from '../../stdlib/paths.ts';
import { defaultEnv } from '../spec.ts';
import { OCI_VERSION, type OciConfig, type OciMount } from './config.ts';

/** runc's example keeps only what an interactive shell needs. */
const exampleCapabilities = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export interface ExampleOptions {
  /** the caller's ids, mapped to root in a user namespace (runc spec --rootless) */
  rootless?: { uid: number; gid: number };
}

export function exampleConfig(opts: ExampleOptions = {}): OciConfig {
  const config: OciConfig = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [...defaultEnv, 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...exampleCapabilities], effective: [...exampleCapabilities], permitted: [...exampleCapabilities] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'ctc',
    mounts: defaultMounts.map(
      (m): OciMount => ({ destination: m.destination, type: m.type, source: m.source ?? m.type, options: [...(m.options ?? [])] }),
    ),
    linux: {
      resources: { devices: defaultDeviceRules.map((r) => ({ ...r })) },
      namespaces: defaultNamespaces.map((type) => ({ type })),
      maskedPaths: [...maskedPaths.default],
      readonlyPaths: [...readonlyPaths.default],
    },
  };
  return opts.rootless ? toRootless(config, opts.rootless) : config;
}

/**
 * What runc's ToRootless does: an unprivileged user cannot give a network
 * namespace any interface but loopback, mount a fresh sysfs, set uid=/gid=
 * mount options for ids it does not map, or write cgroups it was not
 * delegated.
 */
function toRootless(config: OciConfig, ids: { uid: number; gid: number }): OciConfig {
  const mapping = (hostID: number) => [{ containerID: 0, hostID, size: 1 }];
  const { resources: _dropped, ...linux } = config.linux;
  return {
    ...config,
    mounts: config.mounts.map((m) =>
      m.destination === '/sys'
        ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
        : { ...m, options: (m.options ?? []).filter((o) => !o.startsWith('uid=') && !o.startsWith('gid=')) },
    ),
    linux: {
      uidMappings: mapping(ids.uid),
      gidMappings: mapping(ids.gid),
      ...linux,
      namespaces: [...linux.namespaces.filter((n) => n.type !== 'network' && n.type !== 'user'), { type: 'user' }],
    },
  };
}
