// Issue 18: "anything else from the project that is code: TypeScript lint
// plugins". A project's ctc config names plugin files (`lint.plugins`), and
// `ctc lint` ran them in its own process, as root in CI: a pull request's
// config and plugin ran anything. Each attack as it was tried, at load time
// and inside a rule's check: write a marker file, spawn a process that would
// write one, reach `process`, and the prepareStackTrace escape to the outer
// realm's Function. The marker stays absent; the error is coded.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctc, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-hostile-lint-');
test.after(() => tmp.remove());
// each attack on its own: one that got through must not fail the next
test.before.each(() => rmSync(marker, { force: true }));

const marker = join(tmp.dir, 'plugin-ran');
const proj = join(tmp.dir, 'proj');
mkdirSync(join(proj, '.git'), { recursive: true }); // the project root, as a checkout's
writeFileSync(
  join(proj, 'app.ct.ts'),
  `import { container, hostRootfs } from 'ctc';
export default container({ rootfs: hostRootfs(), resources: { memory: { limit: '64Mi' }, pids: { limit: 100 } }, process: { args: ['/bin/true'] } });
`,
);

const M = JSON.stringify(marker);
/** What each attack runs, once it holds the named thing. */
const payloads = {
  'node:fs': `require('node:fs').writeFileSync(${M}, 'fs')`,
  'node:child_process': `require('node:child_process').execSync('echo spawned > ' + ${M})`,
  // not an import ctc can see before the run: the sandbox's own require refuses it
  'a computed require': `require(['node', 'child_process'].join(':')).execSync('echo computed > ' + ${M})`,
  process: `(globalThis as any).process.getBuiltinModule('node:fs').writeFileSync(${M}, 'process')`,
  prepareStackTrace: `{
    (Error as any).prepareStackTrace = (_e: unknown, sites: any) => sites.constructor.constructor('return process')();
    const p: any = new Error().stack;
    p.getBuiltinModule('node:child_process').execSync('echo escaped > ' + ${M});
  }`,
};
type Attack = keyof typeof payloads;

const declareRequire = 'declare const require: (m: string) => any;\n';
const rule = (check: string) => `defineRule({ id: 'evil/rule', description: 'x', options: {}, *check() { ${check}; yield* []; } })`;

/** A plugin that attacks while it loads, or when its rule checks a plan. */
function plugin(attack: Attack, when: 'load' | 'check'): string {
  return `import { defineRule } from 'ctc/lint';
${declareRequire}${when === 'load' ? payloads[attack] + ';\n' : ''}export const rules = [${rule(when === 'check' ? payloads[attack] : '')}];
`;
}

function lintWith(pluginFile: string, text: string) {
  writeFileSync(join(proj, pluginFile), text);
  writeFileSync(
    join(proj, 'ctc.config.json'),
    JSON.stringify({ lint: { defaults: false, plugins: [`./${pluginFile}`], rules: { 'evil/rule': 'error' } } }),
  );
  return ctc(['lint', 'app.ct.ts'], { cwd: proj });
}

function assertRefused(r: ReturnType<typeof ctc>, how: string) {
  assert.not.ok(existsSync(marker), `${how}: nothing was written or run (${r.stderr})`);
  assert.is(r.status, 1, `${how}: fails: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /error CT_(LINT_PLUGIN|LINT_RULE|EVAL|IMPORT)\b/, `${how}: a coded error: ${r.stderr}`);
  assert.not.match(r.stderr, /internal error|\n\s+at /, `${how}: no stack trace`);
}

for (const when of ['load', 'check'] as const) {
  for (const attack of Object.keys(payloads) as Attack[]) {
    test(`a plugin that reaches ${attack} ${when === 'load' ? 'when it loads' : "in its rule's check"}: refused, nothing run`, () => {
      assertRefused(lintWith('policy.ts', plugin(attack, when)), `${attack} at ${when}`);
    });
  }
}

test('an ESM import of node:child_process in a .ts plugin: refused, nothing run', () => {
  const text = `import { execSync } from 'node:child_process';\nimport { defineRule } from 'ctc/lint';\nexecSync('echo imported > ' + ${M});\nexport const rules = [${rule('')}];\n`;
  assertRefused(lintWith('imports.ts', text), 'import in .ts');
});

test('a CommonJS .cjs plugin, not in strict mode, tries the prepareStackTrace escape: refused, nothing run', () => {
  const text = `Error.prepareStackTrace = (e, sites) => sites.constructor.constructor('return process')();
const p = new Error().stack;
p.getBuiltinModule('node:child_process').execSync('echo sloppy > ' + ${M});
module.exports = { rules: [] };
`;
  assertRefused(lintWith('policy.cjs', text), 'sloppy .cjs');
});

test('a .js and a .mjs plugin that import node:fs: refused, nothing run', () => {
  for (const ext of ['js', 'mjs']) {
    const text = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${M}, '${ext}');\nexport const rules = [];\n`;
    assertRefused(lintWith(`policy.${ext}`, text), `.${ext} plugin`);
  }
});

test.run();
