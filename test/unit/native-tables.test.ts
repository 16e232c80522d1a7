// Tables that C and TypeScript both hold, pinned: a change on one side
// without the other fails here, not in a container's behaviour.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FORWARDED } from '../../executor/run/apply.ts';
import { MAGIC, Rec, VERSION } from '../../executor/native-bridge/run-image.ts';
import { root } from '../helpers.ts';

const launcherH = readFileSync(join(root, 'native', 'launcher', 'launcher.h'), 'utf8');

test("the signals a foreground run forwards: the launcher's forwarded_signals are apply.ts's FORWARDED, in order", () => {
  const body = /forwarded_signals\[\]\s*=\s*\{([^}]*)\}/.exec(launcherH)?.[1];
  assert.ok(body, 'launcher.h declares forwarded_signals');
  const numbers = body.replace(/\/\*.*?\*\//g, '').split(',').map((n) => Number(n.trim()));
  assert.equal(numbers, FORWARDED.map((name) => constants.signals[name]));
});

test("the run image's format: image.h's CTC_IMAGE_MAGIC, CTC_IMAGE_VERSION and IMG_* records are executor/native-bridge/run-image.ts's", () => {
  const imageH = readFileSync(join(root, 'native', 'launcher', 'image.h'), 'utf8');
  const define = (name: string) => Number(new RegExp(`#define ${name} (0x[0-9a-f]+|\\d+)u`).exec(imageH)?.[1]);
  assert.is(define('CTC_IMAGE_MAGIC'), MAGIC);
  assert.is(define('CTC_IMAGE_VERSION'), VERSION);
  const records = Object.fromEntries([...imageH.matchAll(/\bIMG_([A-Z_]+) = (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  assert.equal(records, { ...Rec });
});

test("the C seccomp compiler's syscall and errno numbers: native/common/syscalls.gen.h is stdlib/syscalls.ts's (scripts/gen-syscall-table.mjs --check)", () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-syscall-table.mjs'), '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test.run();
