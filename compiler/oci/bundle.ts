// `ctc build --emit-bundle DIR`: a bundle that runc itself can run. A host
// root (hostRootfs) is made ahead of time in DIR/rootfs: what ctc-init does
// at run time on a fresh tmpfs (rootfs.mirror, fs.mkdir, fs.write) is done
// here, except that each mirrored path becomes a read-only rbind mount entry
// in config.json, for runc to make.

import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CtcError } from '../../common/error.ts';
import type { Spec } from '../spec.ts';
import { type OciMount, printConfig } from './config.ts';
import { ociFromSpec } from './emit.ts';

export interface Bundle {
  dir: string;
  config: string;
  /** the rootfs ctc made, for a host root */
  rootfs?: string;
}

/** Writes DIR/config.json and, for a host root, DIR/rootfs; refuses to overwrite either. */
export function writeBundle(dir: string, spec: Spec): Bundle {
  const net = spec.network;
  if (net.interfaces.some((i) => i.type === 'veth') || net.routes.length || net.ports.length || net.dns) {
    throw new CtcError('CT_OCI_UNSUPPORTED', 'an OCI config has no place for network interfaces, routes, DNS or published ports', {
      hint: 'under an OCI runtime the caller makes them (CNI); run this container with ctc run, or emit it without network',
    });
  }
  if (spec.rootfs.kind === 'image') {
    throw new CtcError('CT_NOT_YET', 'a bundle of an image root is not written yet: its rootfs would be the unpacked image', {
      hint: 'run it with ctc run, or unpack the image into a directory and use dirRootfs(dir)',
    });
  }
  const bundle = resolve(dir);
  const config = join(bundle, 'config.json');
  const rootfs = spec.rootfs.kind === 'host' ? join(bundle, 'rootfs') : undefined;
  written(bundle, () => mkdirSync(bundle, { recursive: true }));
  for (const path of [config, rootfs]) {
    if (path && existsSync(path))
      throw new CtcError('CT_EXISTS', `${path} exists. Remove it first`, { hint: 'ctc does not overwrite a bundle' });
  }
  let rootMounts: OciMount[] = [];
  if (rootfs && spec.rootfs.kind === 'host') {
    const host = spec.rootfs;
    try {
      rootMounts = written(rootfs, () => makeHostRoot(rootfs, host));
    } catch (e) {
      rmSync(rootfs, { recursive: true, force: true }); // nothing half-made is left
      throw e;
    }
  }
  const oci = ociFromSpec(spec, { rootPath: rootfs ? 'rootfs' : (spec.rootfs as { path: string }).path, rootMounts, id: basename(bundle) });
  written(config, () => writeFileSync(config, printConfig(oci), { flag: 'wx', mode: 0o644 }));
  return { dir: bundle, config, ...(rootfs ? { rootfs } : {}) };
}

function makeHostRoot(rootfs: string, host: Extract<Spec['rootfs'], { kind: 'host' }>): OciMount[] {
  const inRoot = (p: string) => {
    noSymlinkOnTheWay(rootfs, p);
    return join(rootfs, p);
  };
  const parent = (p: string) => mkdirSync(dirname(inRoot(p)), { recursive: true, mode: 0o755 });
  mkdirSync(rootfs, { mode: 0o755 });
  const mounts: OciMount[] = [];
  for (const path of host.mirror) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue; // as rootfs.mirror: a path this host lacks is skipped
    parent(path);
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(path), inRoot(path));
      continue;
    }
    if (st.isDirectory()) mkdirSync(inRoot(path), { mode: 0o755 });
    else writeFileSync(inRoot(path), '', { mode: 0o644 });
    mounts.push({ destination: path, type: 'bind', source: path, options: ['rbind', 'ro'] });
  }
  // Modes are set after creation: the process umask must not narrow them.
  for (const [path, mode] of Object.entries(host.dirs)) {
    mkdirSync(inRoot(path), { recursive: true, mode: 0o755 });
    chmodSync(inRoot(path), mode);
  }
  for (const [path, data] of Object.entries(host.files)) {
    parent(path);
    writeFileSync(inRoot(path), data);
    chmodSync(inRoot(path), 0o644);
  }
  return mounts;
}

/**
 * Paths are joined as strings here, so a symlink made earlier in the root
 * (a mirrored /lib -> usr/lib, or one with an absolute target) must not be
 * followed: that would write outside the bundle, on the host.
 */
function noSymlinkOnTheWay(rootfs: string, path: string): void {
  let at = rootfs;
  for (const part of path.split('/').filter(Boolean)) {
    at = join(at, part);
    if (lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new CtcError('CT_WRITE', `cannot write ${path} in the bundle's rootfs: ${at.slice(rootfs.length)} is a symlink there`, {
        hint: 'a host root cannot hold files or mirrored paths beneath a mirrored symlink',
      });
    }
  }
}

/** Runs a write, turning a failure of the file system into a coded error. */
function written<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    if (e instanceof CtcError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new CtcError('CT_WRITE', `cannot write ${err.path ?? path}`, { errno: err.code });
  }
}
