import { cachedRootfs } from '../../image/cache.ts';
import type { Spec } from '../spec.ts';
import type { Emitter } from './emit.ts';

/** Where the root is assembled, in the container's own mount namespace. */
export const rootfsDir = '{state}/rootfs';

/** An image's unpacked root, in the cache under the state root ({root}). */
const imageDir = (digest: string) => cachedRootfs('{root}', digest);

/** The root as the host names it (in the init's mount namespace), once its rootfs step ran. */
export function rootDirOf(spec: Spec): string {
  const r = spec.rootfs;
  if (r.kind === 'dir') return r.path;
  if (r.kind === 'image') return r.readonly ? imageDir(r.digest) : `${rootfsDir}/root`;
  return rootfsDir;
}

/** Early, before anything else is made: the image in the cache (unpacked there the first time). */
export function lowerImage(spec: Spec, out: Emitter): void {
  if (spec.rootfs.kind === 'image') out.emit('image.unpack', { archive: spec.rootfs.archive, digest: spec.rootfs.digest }, 'rootfs');
}

export function lowerRootfs(spec: Spec, out: Emitter): void {
  const r = spec.rootfs;
  if (r.kind === 'dir') {
    out.emit('rootfs.bind', { dir: r.path }, 'rootfs');
    return;
  }
  if (r.kind === 'image') {
    // the cache is shared: a container writes to an overlay in its own memory, or nowhere
    if (r.readonly) out.emit('rootfs.bind', { dir: imageDir(r.digest) }, 'rootfs');
    else out.emit('rootfs.overlay', { lower: imageDir(r.digest), dir: rootfsDir }, 'rootfs');
    return;
  }
  out.emit('rootfs.tmpfs', { dir: rootfsDir }, 'rootfs');
  r.mirror.forEach((path, i) => out.emit('rootfs.mirror', { path }, `rootfs.mirror[${i}]`));
  for (const [path, mode] of Object.entries(r.dirs)) out.emit('fs.mkdir', { path, mode }, `rootfs.dirs.${path}`);
  for (const [path, data] of Object.entries(r.files)) out.emit('fs.write', { path, mode: 0o644, data }, `rootfs.files.${path}`);
}

/** After the pivot: paths are the container's own, and /proc is its own. */
export function lowerPivot(spec: Spec, out: Emitter): void {
  out.emit('rootfs.pivot', {}, 'rootfs');
  const prop = spec.rootfsPropagation;
  if (prop?.endsWith('shared')) out.emit('mount.propagation', { path: '/', mode: prop }, 'rootfsPropagation');
  // Before /proc/sys is made read-only below.
  for (const [key, value] of Object.entries(spec.sysctl)) out.emit('proc.sysctl', { key, value }, `sysctl.${key}`);
  spec.maskedPaths.forEach((path, i) => out.emit('fs.mask', { path }, `maskedPaths[${i}]`));
  spec.readonlyPaths.forEach((path, i) => out.emit('fs.readonly', { path }, `readonlyPaths[${i}]`));
  if (spec.rootfs.readonly) out.emit('rootfs.readonly', {}, 'rootfs.readonly');
}
