// A busybox bundle for the lifecycle tests: a rootfs holding the static
// busybox from Debian's busybox-static, every applet linked to it, and an
// OCI config shaped like the one containerd sends.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCapabilities } from '../stdlib/capabilities.ts';
import { defaultMounts } from '../stdlib/mounts.ts';
import { maskedPaths, readonlyPaths } from '../stdlib/paths.ts';

export const BUSYBOX = '/usr/bin/busybox';

export function busyboxRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const applet of execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'run']) mkdirSync(join(rootfs, d), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  return rootfs;
}

export interface BundleOptions {
  args: string[];
  id: string;
  terminal?: boolean;
  extra?: Record<string, unknown>;
  linux?: Record<string, unknown>;
}

/** Writes DIR/config.json (and the rootfs once); returns DIR. */
export function busyboxBundle(dir: string, o: BundleOptions): string {
  busyboxRootfs(dir);
  const caps = [...defaultCapabilities];
  const config = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: o.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ['PATH=/bin', 'HOME=/'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs' },
    hostname: 'bb',
    mounts: defaultMounts.filter((m) => m.type !== 'cgroup'),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 100 } },
      cgroupsPath: `/ctc/${o.id}`,
      namespaces: ['pid', 'ipc', 'uts', 'mount', 'network'].map((type) => ({ type })),
      maskedPaths: maskedPaths.default,
      readonlyPaths: readonlyPaths.default,
      ...o.linux,
    },
    ...o.extra,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
