import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtcError } from '../../common/error.ts';
import type { Plan } from '../../plan/steps.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';

const plan: Plan = {
  version: 1,
  sources: [{ path: 'app.ct.ts', sha256: 'a'.repeat(64) }],
  steps: [
    { n: 1, kind: 'state.create', args: { dir: '{state}' }, source: 'app.ct.ts:3:1' },
    { n: 2, kind: 'ns.clone', args: { ns: ['mount', 'pid'] } },
    { n: 3, kind: 'fs.write', args: { path: '/etc/x y', mode: 0o644, data: 'a "quoted" # line\nand = more ]' }, source: 'app.ct.ts:4:5' },
    { n: 4, kind: 'mount.fs', args: { type: 'tmpfs', src: 'tmpfs', dst: '/tmp', flags: [], data: '' } },
    { n: 5, kind: 'proc.user', args: { uid: 1000, gid: 1000, groups: [10, 20] } },
    { n: 6, kind: 'proc.exec', args: { args: ['sh', '-c', 'echo "[#]" \\ ok'], env: [] }, source: 'lib/a.ct.ts:1:1' },
  ],
};

const rethrow = (fn: () => unknown): CtcError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof CtcError) return e;
    throw e;
  }
  throw new Error('expected a CtcError');
};

test('a plan prints, parses back to the same plan, and prints to the same bytes', () => {
  const text = printPlan(plan);
  const back = parsePlan(text);
  // optional empty arguments are left out of the text and come back absent
  const expected = structuredClone(plan);
  delete (expected.steps[3].args as Record<string, unknown>).flags;
  delete (expected.steps[3].args as Record<string, unknown>).data;
  assert.equal(back, expected);
  assert.is(printPlan(back), text);
});

test('the text is one line per step with the source after #', () => {
  const lines = printPlan(plan).split('\n');
  assert.is(lines[0], 'ctc-plan 1');
  assert.match(lines[2], /^digest sha256:[0-9a-f]{64}$/);
  assert.ok(lines.includes('1 host state.create dir={state}  # app.ct.ts:3:1'));
  assert.ok(lines.includes('5 init proc.user uid=1000 gid=1000 groups=10,20'));
  assert.ok(lines.includes('4 init mount.fs type=tmpfs src=tmpfs dst=/tmp'));
});

test('an edited plan is refused with a digest error naming the digest line', () => {
  const text = printPlan(plan).replace('uid=1000', 'uid=0');
  const e = rethrow(() => parsePlan(text, 'app.plan'));
  assert.is(e.code, 'CT_PLAN_DIGEST');
  assert.is(e.source, 'app.plan:3:1');
});

test('an edit anywhere, even in a comment-like source, changes the digest', () => {
  const text = printPlan(plan).replace('# app.ct.ts:3:1', '# app.ct.ts:9:1');
  assert.is(rethrow(() => parsePlan(text)).code, 'CT_PLAN_DIGEST');
});

test('a file that is not a plan, or a newer format, gets its own code', () => {
  assert.is(rethrow(() => parsePlan('hello\n')).code, 'CT_PLAN_SYNTAX');
  assert.is(rethrow(() => parsePlan('ctc-plan 9\n')).code, 'CT_PLAN_VERSION');
  const crlf = rethrow(() => parsePlan('ctc-plan 1\r\nsource a.ct.ts x\r\n', 'app.plan'));
  assert.equal([crlf.code, crlf.source], ['CT_PLAN_SYNTAX', 'app.plan:1:1']);
  assert.match(crlf.message, /Windows line endings \(CRLF\)/);
});

test('a NUL in a plan, escaped in a string or raw anywhere, is refused at its line even with a correct digest', () => {
  /** a hand edit of step 6's line, digest made again as an attacker would */
  const edited = (edit: (line: string) => string) => {
    const lines = printPlan(plan).split('\n');
    const at = lines.findIndex((l) => l.startsWith('6 '));
    lines[at] = edit(lines[at]);
    const d = lines.findIndex((l) => l.startsWith('digest '));
    const rest = [...lines.slice(0, d), ...lines.slice(d + 1)].join('\n');
    lines[d] = `digest sha256:${createHash('sha256').update(rest).digest('hex')}`;
    return { text: lines.join('\n'), line: at + 1 };
  };
  for (const [edit, why] of [
    [(l: string) => l.replace('"sh"', '"sh\\u0000x"'), 'an escaped NUL in a list of strings'],
    [(l: string) => l.replace('env=', 'env=["A=\\u0000"] x='), 'an escaped NUL in a string'],
    [(l: string) => l.replace('lib/a.ct.ts', 'lib/\0a.ct.ts'), 'a raw NUL in the comment'],
  ] as [(l: string) => string, string][]) {
    const { text, line } = edited(edit);
    const e = rethrow(() => parsePlan(text, 'app.plan'));
    assert.equal([e.code, e.source], ['CT_PLAN_SYNTAX', `app.plan:${line}:1`], why);
    assert.match(e.message, /NUL byte/, why);
  }
  const str = { ...plan, steps: [{ n: 1, kind: 'uts.hostname', args: { name: 'web\0x' } }] } as Plan;
  const e = rethrow(() => parsePlan(printPlan(str), 'app.plan'));
  assert.equal([e.code, e.source], ['CT_PLAN_SYNTAX', 'app.plan:5:1']);
  assert.match(e.message, /^name= holds a NUL byte/);
});

test.run();
