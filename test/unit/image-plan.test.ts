// Image roots in the compiler: the build reads the archive beside the source
// and puts its digest into the plan; the root is an overlay over the cached
// image, or the image itself read-only; a missing archive is an error at the
// source's line; the cache is not a host path to a reviewer.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { readImage } from '../../image/archive.ts';
import { diffPlans } from '../../compiler/review/diff.ts';
import { riskNotes } from '../../compiler/review/risk.ts';
import { busyboxImage } from '../busybox-image.ts';
import { tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const src = (name: string, rootfs: string) =>
  writeSource(
    tmp.dir,
    name,
    `import { container, defaultMounts, hostRootfs, imageRootfs } from 'ctc';\nexport default container({\n  rootfs: ${rootfs},\n  mounts: defaultMounts,\n  process: { args: ['/bin/true'] },\n});\n`,
  );

test('the digest read at build, an overlay root over the cache, the archive as written', async () => {
  mkdirSync(join(tmp.dir, 'images'));
  busyboxImage(join(tmp.dir, 'images', 'bb.tar'));
  const { digest } = await readImage(join(tmp.dir, 'images', 'bb.tar'));
  const steps = (await build(src('ov.ct.ts', "imageRootfs('images/bb.tar')"))).plan.steps;
  const unpack = steps.find((s) => s.kind === 'image.unpack');
  assert.equal(unpack?.args, { archive: 'images/bb.tar', digest });
  assert.is(steps.indexOf(unpack!), 1, 'right after state.create: before anything else is made');
  const overlay = steps.find((s) => s.kind === 'rootfs.overlay');
  assert.equal(overlay?.args, { lower: `{root}/@images/${digest.slice(7)}/rootfs`, dir: '{state}/rootfs' });
  assert.not.ok(steps.some((s) => s.kind === 'rootfs.readonly'));
  assert.match(unpack?.source ?? '', /ov\.ct\.ts:3:\d+/);
});

test('readonly: the cached image bound and remounted read-only; not a host directory to the risk rules', async () => {
  const host = (await build(src('host.ct.ts', 'hostRootfs()'))).plan;
  const ro = (await build(src('ro.ct.ts', "imageRootfs('images/bb.tar', { readonly: true })"))).plan;
  assert.match(String(ro.steps.find((s) => s.kind === 'rootfs.bind')?.args.dir), /^\{root\}\/@images\/[0-9a-f]{64}\/rootfs$/);
  assert.ok(ro.steps.some((s) => s.kind === 'rootfs.readonly'));
  const codes = riskNotes(diffPlans(host, ro), host, ro).map((n) => n.code);
  assert.not.ok(codes.includes('RISK_HOST_MOUNT'), codes.join(' '));
});

test('a missing archive is a coded error at the line that names it', async () => {
  const [e, ...more] = await errorsOf(src('missing.ct.ts', "imageRootfs('nowhere.tar')"));
  assert.is(more.length, 0);
  assert.match(e.code, /^CT_IMAGE_/);
  assert.match(e.message, /nowhere\.tar/);
  assert.match(e.source ?? '', /missing\.ct\.ts:3:\d+/);
});

test.run();
