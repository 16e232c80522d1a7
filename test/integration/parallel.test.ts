// Concurrency: 100 containers started in parallel (8 at a time, through the
// launcher, each from its own bundle) all run, each exits with its own code,
// and nothing is left. The race of two creates of one id is in native.test.ts;
// `npm run stress` runs both ten times in a row.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxRootfs } from '../busybox.ts';
import { hostResidue, root, tempDir } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
test.after(() => tmp.remove());

const COUNT = 100;
const AT_ONCE = 8;
const launcher = join(root, 'dist', 'ctc');

function bundle(i: number, rootfs: string): string {
  const dir = join(tmp.dir, `b${i}`);
  mkdirSync(dir);
  const config = {
    ociVersion: '1.2.0',
    root: { path: rootfs, readonly: true },
    process: { args: ['sh', '-c', `exit ${i}`], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: ['mount', 'pid', 'ipc', 'uts', 'network'].map((type) => ({ type })), cgroupsPath: `/ctc/par-${i}` },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const run = (i: number, dir: string) =>
  new Promise<{ i: number; code: number | null; stderr: string }>((resolve) => {
    const child = spawn(launcher, ['--root', state, 'run', '--bundle', dir, `par-${i}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ i, code, stderr }));
  });

test(`${COUNT} containers in parallel (${AT_ONCE} at a time) each exit with their own code, and leave nothing`, async () => {
  const before = hostResidue([state]);
  const rootfs = busyboxRootfs(join(tmp.dir, 'shared'));
  const dirs = Array.from({ length: COUNT }, (_, i) => bundle(i, rootfs));
  const results: { i: number; code: number | null; stderr: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const i = next++;
      results.push(await run(i, dirs[i]));
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  const wrong = results.filter((r) => r.code !== r.i);
  assert.equal(wrong, [], 'every container exits with its own code');
  assert.equal(
    results.filter((r) => r.stderr.trim()).map((r) => `${r.i}: ${r.stderr}`),
    [],
    'and says nothing on stderr',
  );
  assert.equal(hostResidue([state]), before);
  console.log(`    ${COUNT} containers, ${AT_ONCE} at a time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test.run();
