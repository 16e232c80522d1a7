// Loading a project's lint plugins: files that export rules, as
// `export const rules = [...]` or `export default [...]`. They are the
// project's own code and run unsandboxed, as ESLint plugins do.
//
// A .ts plugin is transpiled with the TypeScript compiler ctc already ships
// (types are the author's editor's business; nothing is type-checked here)
// to CommonJS and run with a `require` that gives 'ctc/lint' (and 'ctc')
// as the rule API, loads relative .ts files the same way, and anything else
// with Node's own. A .js or .mjs plugin is imported as it is.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CtcError } from '../error.ts';
import { display } from '../config.ts';
import * as api from '../../stdlib/lint.ts';
import type { LintRule } from './rule.ts';

const RULE_ID = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)?$/;

export async function loadPlugin(file: string): Promise<LintRule[]> {
  const fail = (message: string, hint?: string): never => {
    throw new CtcError('CT_LINT_PLUGIN', message, { source: display(file), ...(hint ? { hint } : {}) });
  };
  let exports: Record<string, unknown>;
  try {
    exports = /\.[cm]?ts$/.test(file) ? await requireTs(file) : await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof CtcError) throw e;
    return fail(`cannot load the plugin: ${(e as Error).message}`);
  }
  const rules = exports.rules ?? exports.default;
  if (!Array.isArray(rules)) return fail('a plugin exports its rules: `export const rules = [defineRule({...}), ...]`');
  return rules.map((r, i) => checkRule(r, i, fail));
}

function checkRule(r: unknown, i: number, fail: (message: string, hint?: string) => never): LintRule {
  const rule = r as Partial<LintRule> | null;
  const ok = rule && typeof rule.id === 'string' && typeof rule.description === 'string' && typeof rule.check === 'function';
  if (!ok) return fail(`rules[${i}] is not a rule: it needs an id, a description and a check function`);
  if (!RULE_ID.test(rule.id!)) fail(`rule id '${rule.id}' is not kebab-case (optionally 'plugin/rule')`);
  if (rule.options !== undefined && (rule.options === null || typeof rule.options !== 'object')) fail(`${rule.id}: options must be an object`);
  return { options: {}, ...rule } as LintRule;
}

let ts: typeof import('typescript') | undefined;

/** Transpiles and runs a .ts module, and what it requires, once each. */
async function requireTs(file: string, cache = new Map<string, Record<string, unknown>>()): Promise<Record<string, unknown>> {
  ts ??= (await import('typescript')).default;
  const compile = (path: string) =>
    ts!.transpileModule(readFileSync(path, 'utf8'), {
      fileName: path,
      compilerOptions: { module: ts!.ModuleKind.CommonJS, target: ts!.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
    }).outputText;
  const load = (path: string): Record<string, unknown> => {
    const cached = cache.get(path);
    if (cached) return cached;
    const module = { exports: {} as Record<string, unknown> };
    cache.set(path, module.exports);
    const nodeRequire = createRequire(path);
    const require = (spec: string) => {
      if (spec === 'ctc' || spec === 'ctc/lint') return api;
      if (spec.startsWith('.') && /\.[cm]?ts$/.test(spec)) return load(resolve(dirname(path), spec));
      return nodeRequire(spec);
    };
    // The CommonJS wrapper Node itself uses.
    new Function('exports', 'require', 'module', '__filename', '__dirname', compile(path))(module.exports, require, module, path, dirname(path));
    cache.set(path, module.exports);
    return module.exports;
  };
  return load(resolve(file));
}
