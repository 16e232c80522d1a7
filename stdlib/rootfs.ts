import type { DirRootfs, HostRootfs, ImageRootfs } from './types.ts';

/** Uses a prepared directory (an unpacked image, a debootstrap) as the root. */
export function dirRootfs(path: string, opts: { readonly readonly?: boolean } = {}): DirRootfs {
  return { kind: 'dir', path, readonly: opts.readonly ?? false };
}

const hostEtc: Readonly<Record<string, string>> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  '/etc/group': 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n',
  '/etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  '/etc/nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n',
};

/**
 * A root made of the host's own programs, read-only, and a generated minimal
 * /etc: runs on any Debian-like host without an image. The dynamic linker's
 * cache and Debian's alternatives links are mirrored so programs resolve.
 * The mirrored programs are always read-only; `readonly: true` makes the
 * whole root so once it is built (its tmpfs: /tmp, /root, /run, /etc).
 */
export function hostRootfs(opts: { readonly files?: Readonly<Record<string, string>>; readonly readonly?: boolean } = {}): HostRootfs {
  return {
    kind: 'host',
    mirror: ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc/ld.so.cache', '/etc/alternatives'],
    dirs: { '/tmp': 0o1777, '/root': 0o700, '/run': 0o755 },
    files: { ...hostEtc, ...opts.files },
    ...(opts.readonly ? { readonly: true } : {}),
  };
}

/**
 * A root from an image archive: `imageRootfs('busybox.tar')`. Unpacked
 * (layers in order, whiteouts applied, owners and modes kept) into a cache
 * under the state root the first time it runs; writable through an overlay
 * unless readonly.
 */
export function imageRootfs(archive: string, opts: { readonly readonly?: boolean } = {}): ImageRootfs {
  return { kind: 'image', archive, readonly: opts.readonly ?? false };
}
