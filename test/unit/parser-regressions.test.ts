// Inputs that once broke one of the parsers of untrusted text (the plan
// file, the OCI runtime config, the .ct language), found by
// test/unit/parser-fuzz's properties or while writing them: each stays as a
// fixed case, refused with a CtcError at its place, at once.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { CtcError, CtcErrors } from '../../common/error.ts';
import type { Plan } from '../../plan/steps.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { root, tempDir } from '../helpers.ts';
import { resign } from '../resign.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir('ctc-parser-regressions-');
test.after(() => tmp.remove());

/** The CtcErrors a call is refused with; fails the test if it parses or throws anything else. */
function refused(run: () => unknown): CtcError[] {
  try {
    run();
  } catch (e) {
    if (e instanceof CtcErrors) return e.errors;
    if (e instanceof CtcError) return [e];
    throw e;
  }
  throw new Error('expected a CtcError');
}

/** The errors of a build and how long it took. */
async function timedErrors(file: string): Promise<{ errors: CtcError[]; ms: number }> {
  const t0 = performance.now();
  const errors = await errorsOf(file);
  return { errors, ms: performance.now() - t0 };
}

const user: Plan = {
  version: 1,
  sources: [{ path: 'app.ct', sha256: 'a'.repeat(64) }],
  steps: [{ n: 1, kind: 'proc.user', args: { uid: 1000, gid: 1000, groups: [10, 20] } }],
};
/** The plan with one argument replaced, signed again: only the step parser can refuse it. */
const edited = (from: string, to: string) => resign(printPlan(user).replace(from, to));

test('plan: a number a double cannot hold is refused at its line, not read as another number or Infinity', () => {
  // Found by the plan property: `uid=` and 400 nines parsed as Infinity, printed as `uid=Infinity`, which the parser refuses.
  for (const [from, to] of [
    ['uid=1000', `uid=${'9'.repeat(400)}`],
    ['uid=1000', 'uid=9007199254740993'], // was read as 9007199254740992
    ['groups=10,20', 'groups=10,18446744073709551616'],
  ]) {
    const [e] = refused(() => parsePlan(edited(from, to), 'app.plan'));
    assert.is(e.code, 'CT_PLAN_SYNTAX', to);
    assert.is(e.source, 'app.plan:5:1');
    assert.match(e.message, /out of range/);
  }
  assert.is(parsePlan(edited('uid=1000', 'uid=9007199254740991')).steps[0].args.uid, 2 ** 53 - 1, 'the largest exact one is read');
});

test('plan: an argument given twice is refused, not read as the last one', () => {
  // Found while writing the plan property (it has no way to see it: the last one prints and parses back as itself).
  const [e] = refused(() => parsePlan(edited('uid=1000', 'uid=0 uid=1000'), 'app.plan'));
  assert.is(e.code, 'CT_PLAN_SYNTAX');
  assert.is(e.message, 'uid= is given twice');
});

const ctFile = (name: string, text: string) => writeSource(join(tmp.dir, 'regression'), name, text);

test('.ct: blocks nested past 64 are a syntax error at the first one too deep, not a stack overflow', async () => {
  // Found by the .ct property: 100 unclosed blocks, or some 500 closed ones, overflowed chevrotain's stack (RangeError).
  const open = (n: number) => ['container {', `  process ${'{ '.repeat(n)}`, '}', ''].join('\n');
  for (const [name, text] of [
    ['unclosed.ct', open(100)],
    ['closed.ct', open(500).replace('\n}', `${'} '.repeat(500)}\n}`)],
  ]) {
    const errors = await errorsOf(ctFile(name, text));
    // the container's block is the first level: the 64th of process's is the 65th
    assert.equal(
      errors.map((e) => [e.code, e.source, e.message]),
      [['CT_SYNTAX', `${name}:2:${11 + 2 * 63}`, 'blocks nested more than 64 deep']],
    );
  }
  const deepest = await errorsOf(ctFile('deepest.ct', open(63).replace('\n}', `${'} '.repeat(63)}\n}`)));
  assert.not.ok(
    deepest.some((e) => /nested/.test(e.message)),
    '64 levels are read',
  );
});

test('.ct: a 100 kB word is an unknown key, reported at once', async () => {
  // Found by the .ct property: its did-you-mean measured the word against every key, cell by cell (6 s).
  const { errors, ms } = await timedErrors(
    ctFile('long.ct', `container {\n  ${'a'.repeat(100_000)} x\n  rootfs use preset.hostRootfs\n  process { args /bin/true }\n}\n`),
  );
  assert.equal(
    errors.map((e) => [e.code, e.source, e.hint?.slice(0, 14)]),
    [['CT_UNKNOWN_KEY', 'long.ct:2:3', 'the keys here:']],
  );
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
});

test('.ct: the parser stops after 100 syntax errors, and says where', async () => {
  // Found by the .ct property: each error costs chevrotain's recovery a fraction of a millisecond; 10,000 took seconds.
  const errors = await errorsOf(ctFile('many.ct', `container {\n${'  use\n'.repeat(10_000)}}\n`));
  assert.is(errors.length, 101);
  assert.ok(errors.every((e) => e.code === 'CT_SYNTAX'));
  assert.equal([errors[0].source, errors[0].message], ['many.ct:2:6', 'expected a word, found the end of the line']);
  // where the parser stopped: the line of the 100th
  assert.equal(
    [errors[100].source, errors[100].message],
    ['many.ct:101:6', 'more than 100 syntax errors: the rest of the file is not read'],
  );
});

test('.ct: __proto__ and constructor are names like any other', async () => {
  // Found while writing the .ct property: `__proto__` set a record's prototype (the entry vanished), and `in` found Object.prototype as a preset.
  const [sysctl] = await errorsOf(
    ctFile(
      'sysctl.ct',
      ['container {', '  rootfs use preset.hostRootfs', '  sysctl { __proto__ 1 }', '  process { args /bin/true }', '}', ''].join('\n'),
    ),
  );
  assert.equal([sysctl.code, sysctl.source], ['CT_SYSCTL', 'sysctl.ct:3:12'], 'a kernel parameter the checks refuse, not none');
  const [preset] = await errorsOf(
    ctFile(
      'preset.ct',
      ['container {', '  rootfs use preset.hostRootfs', '  process { args /bin/true; use preset.__proto__ }', '}', ''].join('\n'),
    ),
  );
  assert.equal([preset.code, preset.source, preset.message], ['CT_UNKNOWN_NAME', 'preset.ct:3:33', "unknown preset 'preset.__proto__'"]);
  const { spec } = await build(
    ctFile(
      'annotations.ct',
      [
        'container {',
        '  rootfs use preset.hostRootfs',
        '  annotations { __proto__ a; constructor b }',
        '  process { args /bin/true }',
        '}',
        '',
      ].join('\n'),
    ),
  );
  assert.equal(Object.entries(spec.annotations), [
    ['__proto__', 'a'],
    ['constructor', 'b'],
  ]);
});

/** The containerd config, changed, in a folder of its own. */
// biome-ignore lint/suspicious/noExplicitAny: each test changes the parsed fixture where it likes
function containerd(name: string, change: (c: any) => void, text?: (json: string) => string): string {
  const c = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'oci', 'containerd', 'config.json'), 'utf8'));
  change(c);
  const json = JSON.stringify(c, null, 2);
  return writeSource(join(tmp.dir, 'regression', name), 'config.json', text ? text(json) : json);
}

test('OCI: a config nested past 256 levels is refused as JSON at the first one too deep, not a stack overflow', async () => {
  // Found by the OCI property: 5000 nested arrays overflowed the JSON parser's stack (RangeError).
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const errors = await errorsOf(
    containerd(
      'deep',
      (c) => (c['x-deep'] = 'here'),
      (json) => json.replace('"here"', deep(5000)),
    ),
  );
  assert.equal(
    errors.map((e) => [e.code, e.message]),
    [['CT_JSON', 'config.json nests objects and arrays more than 256 deep']],
  );
  const line =
    readFileSync(join(tmp.dir, 'regression', 'deep', 'config.json'), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('x-deep')) + 1;
  // `  "x-deep": [[[…`: the document is the first level, so the 256th [ is the 257th
  assert.is(errors[0].source, `config.json:${line}:${13 + 255}`);
  // an unknown property may hold anything, as deep as 256 levels in all
  await build(
    containerd(
      'deepest',
      (c) => (c['x-deep'] = 'here'),
      (json) => json.replace('"here"', deep(255)),
    ),
  );
});

test('OCI: id mappings past what the kernel takes are one error, at once', async () => {
  // Found by the OCI property: 1000 copies of a range were compared pair by pair, an error each (499,500 errors, 9 s).
  const range = { containerID: 0, hostID: 100000, size: 65536 };
  // biome-ignore lint/suspicious/noExplicitAny: the parsed fixture, as containerd() hands it
  const withUserns = (c: any, n: number) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = Array.from({ length: n }, () => range);
    c.linux.gidMappings = [range];
  };
  const { errors, ms } = await timedErrors(containerd('maps-1000', (c) => withUserns(c, 1000)));
  assert.equal(
    errors.map((e) => [e.code, e.message]),
    [['CT_USERNS_MAP', 'uidMappings has 1000 ranges; the kernel takes at most 340']],
  );
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
  // within the limit, each range's first clash only
  const clashes = await errorsOf(containerd('maps-340', (c) => withUserns(c, 340)));
  assert.is(clashes.length, 339);
  assert.ok(clashes.every((e, i) => e.message === `uidMappings[${i + 1}] maps container ids that uidMappings[0] maps too`));
});

test.run();
