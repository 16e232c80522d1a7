// Where an unpacked image lives: <state root>/@images/<hex of its digest>/rootfs.
// Named by content, so one image is unpacked once for every container that
// runs it; plans name it with {root}, the state root they run under.

import { join } from 'node:path';

/** sha256:<64 hex> → the hex; undefined for anything else. */
export const digestHex = (digest: string) => /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];

export const imagesDir = (root: string) => join(root, '@images');

export const cachedRootfs = (root: string, digest: string) => join(imagesDir(root), digestHex(digest) ?? digest.replace(/[^0-9a-z]/gi, '_'), 'rootfs');
