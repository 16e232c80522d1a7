// Pruning the image cache (`ctc gc --images`): an unpacked image is removed
// once no container under the state root names it in its plan. A create
// writes its plan (state.create) before it looks for its image
// (image.unpack), so one under way when gc looks is seen; one that starts
// while gc removes its image unpacks it again, or, if it found the image
// just before, fails at its root step and is undone.

import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex, imagesDir } from '../../image/cache.ts';
import { str } from '../../plan/steps.ts';
import { parsePlan } from '../../plan/text.ts';
import type { Container } from '../container/container.ts';
import { isAlive } from '../container/proc.ts';

/** The cache entries no container uses (unpacked images, and temp dirs of unpacks that died); removed unless dryRun. Returns their names. */
export function pruneImages(root: string, containers: Container[], dryRun: boolean): string[] {
  const dir = imagesDir(root);
  if (!existsSync(dir)) return [];
  const inUse = imagesInUse(containers);
  if (!inUse) return []; // a plan that does not read: keep everything rather than guess
  const unused = readdirSync(dir).filter((name) => {
    const dead = /^[0-9a-f]{64}\.(tmp|gone)-(\d+)-/.exec(name);
    return dead ? !isAlive(Number(dead[2])) : !inUse.has(name);
  });
  if (!dryRun) for (const name of unused) remove(join(dir, name));
  return unused;
}

function imagesInUse(containers: Container[]): Set<string> | undefined {
  const hexes = new Set<string>();
  for (const c of containers) {
    try {
      for (const s of parsePlan(c.plan()).steps) if (s.kind === 'image.unpack') hexes.add(digestHex(str(s, 'digest')) ?? '');
    } catch {
      return undefined;
    }
  }
  return hexes;
}

/** Out of the way first (one rename), so a container starting now unpacks afresh instead of finding half an image. */
function remove(path: string): void {
  const gone = /\.(tmp|gone)-/.test(path) ? path : `${path}.gone-${process.pid}-0`;
  if (gone !== path) renameSync(path, gone);
  rmSync(gone, { recursive: true, force: true });
}
