// `ctc diff`, through the built CLI (node scripts/build.mjs first): steps
// matched by meaning, risk notes on widening changes with the new side's
// source lines, cosmetic changes invisible, JSON that follows the schemas,
// markdown with the risk notes before the diff, and a git revision as OLD.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import MarkdownIt from 'markdown-it';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DiffJson } from '../../compiler/review/json.ts';
import { stepKinds } from '../../plan/steps.ts';
import { ctc, root, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const schema = (name: string) => JSON.parse(readFileSync(join(root, 'plan', 'schema', name), 'utf8'));
const ajv = new Ajv2020({ allErrors: true });
ajv.addSchema(schema('plan.v1.schema.json'));
const validateDiff = ajv.compile(schema('diff.v1.schema.json'));

const write = (name: string, text: string, dir = tmp.dir) => (writeFileSync(join(dir, name), text), join(dir, name));
/** The 1-based line of the first line of text that contains needle. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const base = `import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  hostname: 'web',
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  resources: { memory: { limit: '64Mi' }, pids: { limit: 32 } },
  process: {
    args: ['/bin/sh', '-c', 'echo hi'],
    env: ['PATH=/bin'],
  },
});
`;

// The same container: comments added, properties and imports in another order.
const cosmetic = `// A web container.
import { hostRootfs, defaultMounts, container } from 'ctc';

/* the one export */
export default container({
  process: {
    env: ['PATH=/bin'], // the only variable
    args: ['/bin/sh', '-c', 'echo hi'],
  },
  mounts: defaultMounts,
  rootfs: hostRootfs(),
  resources: { pids: { limit: 32 }, memory: { limit: '64Mi' } },
  hostname: 'web',
});
`;

// Four widening changes: CAP_SYS_ADMIN, /proc/kcore unmasked, no seccomp, the host's / mounted read-write.
const risky = `import { container, defaultCapabilities, defaultMounts, hostRootfs, maskedPaths } from 'ctc';

export default container({
  hostname: 'web',
  rootfs: hostRootfs(),
  mounts: [
    ...defaultMounts,
    { destination: '/host', type: 'bind', source: '/', options: ['rbind', 'rw'] },
  ],
  maskedPaths: maskedPaths.default.filter((p) => p !== '/proc/kcore'),
  resources: { memory: { limit: '64Mi' }, pids: { limit: 32 } },
  process: {
    args: ['/bin/sh', '-c', 'echo hi'],
    env: ['PATH=/bin'],
    capabilities: [...defaultCapabilities, 'CAP_SYS_ADMIN'],
    seccomp: 'unconfined',
  },
});
`;

const files = { base: write('base.ct.ts', base), cosmetic: write('cosmetic.ct.ts', cosmetic), risky: write('risky.ct.ts', risky) };

function diff(args: string[], cwd = root): DiffJson {
  const r = ctc(['diff', '--format', 'json', ...args], { cwd });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as DiffJson;
}

let riskyDiff: DiffJson;

test('adding CAP_SYS_ADMIN, unmasking a path, dropping seccomp and mounting / read-write give exactly those four risk notes', () => {
  riskyDiff = diff([files.base, files.risky]);
  const [d] = riskyDiff.diffs;
  const notes = d.risks.map((r) => [r.code, r.source, r.at]);
  const at = (needle: string, col: number) => `risky.ct.ts:${lineOf(risky, needle)}:${col}`;
  assert.equal(notes, [
    ['RISK_CAP_ADDED', at('capabilities:', 5), 'new-step'],
    // removals point at the new side's nearest step: the seccomp filter would have closed the process block
    ['RISK_SECCOMP_REMOVED', at('process:', 3), 'new-nearby'],
    ['RISK_MASK_REMOVED', at('maskedPaths:', 3), 'new-nearby'],
    ['RISK_HOST_MOUNT', at("destination: '/host'", 5), 'new-step'],
  ]);
  assert.match(d.risks[0].message, 'CAP_SYS_ADMIN');
  assert.match(d.risks[2].message, '/proc/kcore');
  assert.match(d.risks[3].message, /host's \/ at \/host read-write/);
});

test('the steps are matched by what they act on, and the counts say so', () => {
  const [d] = riskyDiff.diffs;
  const keys = d.changes.map((c) => `${c.type} ${c.key}`).sort();
  assert.equal(keys, [
    'added mount.bind /host',
    'changed proc.bounding',
    'changed proc.caps',
    'removed fs.mask /proc/kcore',
    'removed proc.seccomp',
  ]);
  assert.equal(d.counts, { added: 1, removed: 2, changed: 2, risks: 4 });
  // every other step was renumbered by the new mount: none of them is reported
  const caps = d.changes.find((c) => c.key === 'proc.caps')!;
  assert.equal(caps.args, [
    { name: 'effective', old: caps.old!.args.effective, new: caps.new!.args.effective, added: ['CAP_SYS_ADMIN'], removed: [] },
    { name: 'permitted', old: caps.old!.args.permitted, new: caps.new!.args.permitted, added: ['CAP_SYS_ADMIN'], removed: [] },
    { name: 'after-exec', old: caps.old!.args['after-exec'], new: caps.new!.args['after-exec'] },
  ]);
  assert.match(String(caps.new!.args['after-exec']), /CapEff:[^/]*CAP_SYS_ADMIN/, 'root keeps it after its exec');
});

test('comments and property order change nothing: an empty diff', () => {
  const json = diff([files.base, files.cosmetic]);
  assert.equal(json.diffs[0].changes, []);
  assert.equal(json.diffs[0].risks, []);
  const text = ctc(['diff', files.base, files.cosmetic]);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, 'no changes');
});

test('the diff JSON follows diff.v1.schema.json, and the schema knows every step kind', () => {
  assert.ok(validateDiff(riskyDiff), ajv.errorsText(validateDiff.errors));
  const bad = structuredClone(riskyDiff) as unknown as { diffs: { risks: { code: string }[] }[] };
  bad.diffs[0].risks[0].code = 'RISK_MADE_UP';
  assert.not.ok(validateDiff(bad), 'an unknown risk code is refused');
  const kinds = (
    schema('plan.v1.schema.json').$defs.step.oneOf as { properties: { kind: { const: string }; args: { properties: object } } }[]
  ).map((b) => [b.properties.kind.const, Object.keys(b.properties.args.properties)]);
  assert.equal(
    kinds,
    Object.entries(stepKinds).map(([kind, spec]) => [kind, spec.args.map((a) => a.name)]),
    'plan.v1.schema.json lists the kinds and arguments of plan/steps.ts',
  );
});

test('markdown: the counts, then the risk notes, then the full diff folded in <details>', () => {
  const r = ctc(['diff', '--format', 'markdown', files.base, files.risky]);
  assert.is(r.status, 0, r.stderr);
  const tokens = new MarkdownIt({ html: true }).parse(r.stdout, {});
  const first = (pred: (t: (typeof tokens)[number]) => boolean) => tokens.findIndex(pred);
  const details = first((t) => t.type === 'html_block' && t.content.includes('<details>'));
  const fence = first((t) => t.type === 'fence' && t.info === 'diff');
  const summaryLine = first((t) => t.type === 'inline' && /4 risk notes.*1 added.*2 removed.*2 changed/.test(t.content));
  const notes = tokens.filter((t, i) => t.type === 'inline' && /^\*\*RISK_/.test(t.content) && i < details);
  assert.ok(summaryLine >= 0 && summaryLine < details, 'the counts come first');
  assert.equal(
    notes.map((t) => /RISK_[A-Z_]+/.exec(t.content)![0]),
    ['RISK_CAP_ADDED', 'RISK_SECCOMP_REMOVED', 'RISK_MASK_REMOVED', 'RISK_HOST_MOUNT'],
    'every risk note is in the list before <details>',
  );
  assert.ok(details < fence, 'the full diff is inside <details>');
  assert.match(tokens[fence].content, /^\+ \d+ init mount\.bind src=\/ dst=\/host flags=rbind,rw  # risky\.ct\.ts:8:5$/m);
  assert.ok(tokens.slice(fence).some((t) => t.type === 'html_block' && t.content.includes('</details>')));
});

test('ctc diff REV -- SRC builds the source from that revision (its imports too) and compares it with the working tree', () => {
  const repo = join(tmp.dir, 'repo');
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  };
  spawnSync('mkdir', [repo]);
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'ctc test');
  git('config', 'user.email', 'ctc-test@example.invalid');
  const app = (caps: string) =>
    `import { container, defaultCapabilities, defaultMounts, hostRootfs } from 'ctc';\nimport { name } from './name.ct.ts';\n\n` +
    `export default container({\n  hostname: name,\n  rootfs: hostRootfs(),\n  mounts: defaultMounts,\n  process: {\n    args: ['/bin/true'],\n    capabilities: ${caps},\n  },\n});\n`;
  write('app.ct.ts', app('defaultCapabilities'), repo);
  write('name.ct.ts', "export const name = 'before';\n", repo);
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  write('app.ct.ts', app("[...defaultCapabilities, 'CAP_NET_ADMIN']"), repo);
  write('name.ct.ts', "export const name = 'after';\n", repo);

  const revDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('ctc-rev-'));
  const before = revDirs();
  const [d] = diff(['main', '--', 'app.ct.ts'], repo).diffs;
  assert.equal(d.old, { kind: 'revision', path: 'app.ct.ts', revision: 'main' });
  assert.equal(d.new, { kind: 'source', path: 'app.ct.ts' });
  const host = d.changes.find((c) => c.kind === 'uts.hostname')!;
  assert.equal([host.old!.args.name, host.new!.args.name], ['before', 'after']);
  assert.equal(
    d.risks.map((r) => [r.code, r.source]),
    [['RISK_CAP_ADDED', 'app.ct.ts:10:5']],
  );
  assert.equal(revDirs(), before, 'the revision tree is removed');

  const unknown = ctc(['diff', 'no-such-branch', '--', 'app.ct.ts'], { cwd: repo });
  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, 'error CT_GIT_REVISION');
  assert.not.match(unknown.stderr, /\n\s+at /, 'no stack trace');
});

test.run();
