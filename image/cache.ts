// Where an unpacked image lives: <state root>/@images/<hex of its digest>/rootfs.
// Named by content, so one image is unpacked once for every container that
// runs it; plans name it with {root}, the state root they run under.

import { join } from 'node:path';

/** sha256:<64 hex> → the hex; undefined for anything else. */
export const digestHex = (digest: string) => /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];

export const imagesDir = (root: string) => join(root, '@images');

/** digest is sha256:<hex> (the build reads it from the archive; unpack refuses anything else) */
export const cachedRootfs = (root: string, digest: string) => join(imagesDir(root), digest.replace(/^sha256:/, ''), 'rootfs');
