// Issue 18, point 8: a NUL byte in a string that reaches the kernel. The
// kernel reads C strings, so `args: ['A\0B']` ran as two arguments and
// `env: ['FOO=x\0INJECTED=1']` set INJECTED, while the plan showed one
// string. Each attack as it was tried: from a .ct.ts and a .ct source
// (refused at its position, no plan written), from an OCI bundle (`ctc run
// --bundle`), smuggled into a built plan by hand and re-digested, in the
// process file of `ctc exec --process`, and into a run image the launcher
// would apply. Each container would touch /marker in its busybox root, a
// host directory of the test's: the marker stays absent, and no state is
// left. Needs root.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle, busyboxRootfs } from '../busybox.ts';
import { cli, ctc, hostResidue, root, tempDir } from '../helpers.ts';
import { resign } from '../resign.ts';

const tmp = tempDir('ctc-nul-');
const state = join(tmp.dir, 'state');
const rootfs = busyboxRootfs(tmp.dir);
const marker = join(rootfs, 'marker');
// what is ours: every id here starts with nul- (cgroups /ctc/<id>), the state root is in the temp dir;
// a ctc-init process names no id, so those are left to the runner's check at the end
const ours = () => hostResidue([state]).filter((x) => /\bnul-|ctc-nul-/.test(x));
const before = ours();
test.after(() => tmp.remove());

/** What each attack smuggles: the process (args, env) of a container that would touch /marker. */
const attacks = {
  args: { args: ['/bin/touch\0/marker'], env: ['PATH=/bin'] },
  env: { args: ['/bin/sh', '-c', '[ "$INJECTED" = 1 ] && touch /marker'], env: ['PATH=/bin', 'FOO=x\0INJECTED=1'] },
};

/** Nothing ran and nothing stayed: no marker, no container in the state root, the host as it was. */
function assertNothingRan() {
  assert.not.ok(existsSync(marker), 'the container never ran: /marker is absent');
  assert.equal(existsSync(state) ? readdirSync(state).filter((f) => !f.startsWith('.')) : [], [], 'no container state is left');
  assert.equal(ours(), before, 'no cgroup, mount or state of ours is left');
}

for (const [what, proc] of Object.entries(attacks)) {
  test(`.ct.ts: a NUL in ${what} is CT_NUL at its line and column, and no plan is written`, () => {
    const src = join(tmp.dir, `${what}.ct.ts`);
    const lines = [
      `import { container, defaultMounts, dirRootfs } from 'ctc';`,
      `export default container({`,
      `  rootfs: dirRootfs(${JSON.stringify(rootfs)}),`,
      `  mounts: defaultMounts,`,
      `  process: {`,
      `    args: ${JSON.stringify(proc.args)},`,
      `    env: ${JSON.stringify(proc.env)},`,
      `  },`,
      `});`,
    ];
    writeFileSync(src, lines.join('\n') + '\n');
    const r = ctc(['build', src]);
    assert.is(r.status, 1, r.stderr);
    const line = what === 'args' ? 6 : 7;
    assert.match(r.stderr, new RegExp(`${what}\\.ct\\.ts:${line}:\\d+: error CT_NUL: process\\.${what}\\[\\d\\]`));
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    assert.not.ok(existsSync(join(tmp.dir, `${what}.plan`)), 'no plan is written');
    assertNothingRan();
  });

  test(`.ct: a NUL written as \\u0000 in ${what} is CT_NUL at its line`, () => {
    const src = join(tmp.dir, `${what}.ct`);
    const list = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(' ');
    const lines = [
      'container {',
      `  rootfs {\n    kind dir\n    path ${rootfs}\n  }`,
      '  mounts {\n    use preset.defaultMounts\n  }',
      `  process {\n    args ${list(proc.args)}\n    env ${list(proc.env)}\n  }`,
      '}',
    ];
    writeFileSync(src, lines.join('\n') + '\n');
    const r = ctc(['build', src]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${what}\\.ct:${what === 'args' ? 10 : 11}:\\d+: error CT_NUL: process\\.${what}`));
    assert.not.ok(existsSync(join(tmp.dir, `${what}.plan`)), 'no plan is written');
  });

  test(`ctc run --bundle: a NUL in config.json's process.${what} is refused, nothing runs`, () => {
    const dir = join(tmp.dir, `bundle-${what}`);
    busyboxBundle(dir, { id: `nul-${what}`, args: proc.args, extra: { hostname: 'nul' } });
    const file = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.process.env = proc.env;
    config.root.path = rootfs;
    writeFileSync(file, JSON.stringify(config, null, 2)); // JSON writes the NUL as \u0000
    const r = ctc(['--root', state, 'run', '--bundle', dir, `nul-${what}`]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`config\\.json:\\d+:\\d+: error CT_NUL: process\\.${what}\\[\\d\\]`));
    assertNothingRan();
  });

  test(`ctc run: a plan edited by hand to put a NUL into proc.exec's ${what}, digest and all, is refused at that step`, () => {
    const src = join(tmp.dir, `clean-${what}.ct.ts`);
    // built clean: the NUL replaced by a placeholder the edit swaps back
    const clean = { args: proc.args.map((a) => a.replace('\0', '@NUL@')), env: proc.env.map((e) => e.replace('\0', '@NUL@')) };
    writeFileSync(
      src,
      `import { container, defaultMounts, dirRootfs } from 'ctc';\nexport default container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: ${JSON.stringify(clean)} });\n`,
    );
    const plan = join(tmp.dir, `clean-${what}.plan`);
    const built = ctc(['build', src]);
    assert.is(built.status, 0, built.stderr);
    const edited = resign(readFileSync(plan, 'utf8').replace('@NUL@', '\\u0000'));
    assert.match(edited, /\\u0000/);
    writeFileSync(plan, edited);
    const r = ctc(['--root', state, 'run', '--id', `nul-plan-${what}`, plan]);
    assert.is(r.status, 1, r.stderr);
    const line = edited.split('\n').findIndex((l) => l.includes('\\u0000')) + 1;
    assert.match(r.stderr, new RegExp(`clean-${what}\\.plan:${line}:1: error CT_PLAN_SYNTAX: .*NUL`));
    assertNothingRan();
  });
}

test("ctc exec --process: a NUL in the process file's args is CT_NUL naming the file, and nothing runs in the container", () => {
  const dir = join(tmp.dir, 'bundle-exec');
  busyboxBundle(dir, { id: 'nul-exec', args: ['/bin/sleep', '30'] });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), root: { path: rootfs } }));
  const proc = join(tmp.dir, 'process.json');
  writeFileSync(proc, JSON.stringify({ args: ['/bin/touch\0/marker'], env: ['PATH=/bin'], cwd: '/' }));
  try {
    // detached: the container keeps the caller's stdio, so a file rather than a pipe spawnSync would wait on
    const out = openSync(join(tmp.dir, 'exec.out'), 'w');
    const run = spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--bundle', dir, 'nul-exec'], {
      stdio: ['ignore', out, out],
      timeout: 60_000,
    });
    closeSync(out);
    assert.is(run.status, 0, readFileSync(join(tmp.dir, 'exec.out'), 'utf8'));
    const r = ctc(['--root', state, 'exec', '--process', proc, 'nul-exec']);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /process\.json: error CT_NUL: process\.args\[0\]/);
    assert.not.ok(existsSync(marker), 'nothing ran in the container');
  } finally {
    ctc(['--root', state, 'delete', '--force', 'nul-exec']);
  }
  assertNothingRan();
});

test('the launcher does not use a run image whose host-step string holds a NUL: it hands the run to Node', () => {
  const src = join(tmp.dir, 'image.ct.ts');
  writeFileSync(
    src,
    `import { container, defaultMounts, dirRootfs } from 'ctc';\nexport default container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: { args: ['/bin/touch', '/marker'] } });\n`,
  );
  const plan = join(tmp.dir, 'image.plan');
  assert.is(ctc(['build', src]).status, 0);
  const cache = join(tmp.dir, 'cache');
  const env = { CTC_CACHE_DIR: cache };
  // the TypeScript executor runs it and leaves the run image
  assert.is(ctc(['--root', state, 'run', '--id', 'nul-img', plan], { env }).status, 0);
  const [image] = readdirSync(cache).filter((f) => f.endsWith('.img'));
  assert.ok(image, 'a run image was written');
  rmSync(marker);
  // control: the launcher runs it from the image alone (no Node to hand over to)
  const launcher = (e: Record<string, string>) =>
    spawnSync(join(root, 'dist', 'ctc'), ['--root', state, 'run', '--id', 'nul-img', plan], {
      encoding: 'utf8',
      env: { ...process.env, CTC_NODE: '/nonexistent/node', ...e },
    });
  assert.is(launcher(env).status, 0, 'the image is used');
  assert.ok(existsSync(marker), 'the launcher ran the container');
  rmSync(marker);
  // the state dir's string in the image, edited to hold a NUL
  const file = join(cache, image);
  writeFileSync(file, withNulInState(readFileSync(file)));
  // a stand-in for Node: says whether the launcher handed the run over untouched or after a failure of its own
  const node = join(tmp.dir, 'node-stand-in');
  writeFileSync(node, '#!/bin/sh\necho "handed over, native failure: [$CTC_NATIVE_FAILED]" >&2\nexit 3\n', { mode: 0o755 });
  const r = launcher({ ...env, CTC_NODE: node });
  assert.is(r.status, 3, r.stderr);
  assert.match(r.stderr, /handed over, native failure: \[\]/, 'the image was not used: the launcher applied nothing');
  assertNothingRan();
});

/** The image with the first byte of its state.create record's string (image.h IMG_STATE) made a NUL. */
function withNulInState(img: Buffer): Buffer {
  const out = Buffer.from(img);
  for (let at = 16; at < out.length; at += out.readUInt32LE(at)) {
    if (out.readUInt16LE(at + 4) !== 201) continue;
    assert.ok(out.readUInt32LE(at + 12) > 1, 'a string longer than its NUL');
    out[at + 16] = 0;
    return out;
  }
  throw new Error('no state.create record in the image');
}

test.run();
