// A project's lint plugins: files that export rules, as `export const rules
// = [...]` or `export default [...]`. They are code from the project (a pull
// request's, in CI), so they run only in the sandbox that evaluates .ct.ts
// sources (frontend/sandbox.ts: their own process, unprivileged, no files,
// network or processes, limits), never in ctc's: plugin-modules.ts
// transpiles them, and two tasks run them there.
//
// - describe, when the config is loaded: the rules' ids, descriptions and
//   option specs come back as data and are checked here;
// - check, when plans are linted: the plugin's active rules, with their
//   options, over every plan that uses them, in one run per plugin; the
//   reports come back as {message, step number} and are tied here to the
//   plan's own steps.
//
// A rule that throws is CT_LINT_RULE, a plugin that fails to load
// CT_LINT_PLUGIN, a run that loops or allocates without end CT_EVAL_LIMIT.

import type { SourceReader } from '../confine.ts';
import { CtcError } from '../../common/error.ts';
import { display } from '../config.ts';
import { runInSandbox, type SandboxSubject, throwSite } from '../frontend/sandbox.ts';
import type { Plan } from '../../plan/steps.ts';
import { PLUGIN_FILE, type PluginModules, pluginModules } from './plugin-modules.ts';
import { type LintReport, type OptionsSpec, fitsOption, optionTypes } from './rule.ts';

export interface Plugin {
  /** absolute path, as the config names it */
  file: string;
  modules: PluginModules;
}

/** A plugin's rule as the config knows it: its check runs in the sandbox. */
export interface PluginRule {
  id: string;
  description: string;
  options: OptionsSpec;
  plugin: Plugin;
}

/** One plan for a plugin to check, with the plugin's rules that are on for it. */
export interface PluginCheck {
  /** the plan as messages name it */
  name: string;
  plan: Plan;
  rules: { id: string; options: Record<string, unknown> }[];
}

const RULE_ID = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)?$/;
/** An option's name, as a config file's key */
const OPTION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** Of a message from a plugin, what a finding or an error shows: no terminal control, no screenfuls. */
const MESSAGE_MAX = 2000;

// One `ctc lint` loads a plugin once, however many configs name it.
const loaded = new Map<string, Promise<PluginRule[]>>();

/** The rules of the plugin `file`, read through `reader` (the config's project); `site` is where the config names it. */
export function loadPlugin(file: string, reader: SourceReader, site: string | undefined): Promise<PluginRule[]> {
  const key = `${reader.root}\0${file}`;
  let rules = loaded.get(key);
  if (!rules) loaded.set(key, (rules = describePlugin(file, reader, site)));
  return rules;
}

async function describePlugin(file: string, reader: SourceReader, site: string | undefined): Promise<PluginRule[]> {
  const fail = pluginError(file);
  if (!PLUGIN_FILE.test(file)) return fail('a plugin is a TypeScript or JavaScript file (.ts, .mts, .cts, .js, .mjs, .cjs)');
  const plugin: Plugin = { file, modules: await pluginModules(file, reader, site) };
  const answer = run(plugin, { task: 'lint-describe', entry: plugin.modules.entry }) as { rules?: unknown };
  if (!Array.isArray(answer.rules)) return fail('a plugin exports its rules: `export const rules = [defineRule({...}), ...]`');
  return answer.rules.map((r, i) => checkRule(r, i, plugin, fail));
}

/** The reports of the plugin's rules over each plan: [check][rule][report], as `checks` lists them. */
export function checkPlans(plugin: Plugin, checks: PluginCheck[]): LintReport[][][] {
  if (!checks.length) return [];
  const task = {
    task: 'lint-check' as const,
    entry: plugin.modules.entry,
    checks: checks.map((c) => ({ plan: JSON.stringify(c.plan), rules: c.rules })),
  };
  const answer = run(plugin, task, checks) as { reports?: unknown };
  const reports = answer.reports;
  const shaped =
    Array.isArray(reports) &&
    reports.length === checks.length &&
    reports.every((r, c) => Array.isArray(r) && r.length === checks[c].rules.length && r.every(Array.isArray));
  if (!shaped)
    throw new CtcError('CT_SANDBOX', `the sandbox gave an answer of the wrong shape for the lint plugin ${display(plugin.file)}`);
  return (reports as unknown[][][]).map((perRule, c) =>
    perRule.map((found, r) => found.map((report) => tiedReport(report, checks[c], checks[c].rules[r].id, plugin))),
  );
}

/** A run of the plugin in the sandbox; what its code threw, as the coded error it is. */
function run(plugin: Plugin, task: Parameters<typeof runInSandbox>[1], checks: PluginCheck[] = []): object {
  const answer = runInSandbox(plugin.modules.modules, task, subject(plugin));
  if (answer === null || typeof answer !== 'object') throw new CtcError('CT_SANDBOX', 'the sandbox gave an answer that is not an object');
  if (!('error' in answer)) return answer;
  const error = (answer.error ?? {}) as { code?: unknown; message?: unknown; stack?: unknown; check?: unknown; rule?: unknown };
  const message = shown(String(error.message ?? 'it threw')).replace(/^CT_\w+ /, '');
  const { maps, paths } = plugin.modules;
  const source = throwSite(String(error.stack ?? ''), maps, (id) => display(paths.get(id) ?? id)) ?? display(plugin.file);
  const check = typeof error.check === 'number' ? checks[error.check] : undefined;
  if (error.code === 'CT_LINT_RULE' && check) {
    throw new CtcError('CT_LINT_RULE', `the rule ${shown(String(error.rule))} failed on ${check.name}: ${message}`, {
      source,
      hint: 'a rule is code: fix it, or turn it off in the ctc config',
    });
  }
  throw new CtcError('CT_LINT_PLUGIN', `cannot load the plugin: ${message}`, { source });
}

const subject = (plugin: Plugin): SandboxSubject => ({
  what: `the lint plugin ${display(plugin.file)}`,
  hint: 'a rule reads a plan and reports; it must not loop or allocate without end',
});

const pluginError =
  (file: string) =>
  (message: string): never => {
    throw new CtcError('CT_LINT_PLUGIN', message, { source: display(file) });
  };

/** A rule as describe gave it, checked: kebab-case id, a description, a check, options each with a type and a default of it. */
function checkRule(r: unknown, i: number, plugin: Plugin, fail: (message: string) => never): PluginRule {
  const rule = r as Record<string, unknown> | null;
  const ok =
    rule !== null && typeof rule === 'object' && typeof rule.id === 'string' && typeof rule.description === 'string' && rule.check === true;
  if (!ok) return fail(`rules[${i}] is not a rule: it needs an id, a description and a check function`);
  const id = rule.id as string;
  if (!RULE_ID.test(id)) fail(`rule id '${shown(id)}' is not kebab-case (optionally 'plugin/rule')`);
  const options = rule.options ?? {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return fail(`${id}: options must be an object`);
  for (const [name, spec] of Object.entries(options)) {
    if (!OPTION_NAME.test(name)) fail(`${id}: the option name '${shown(name)}' is not a plain name (letters, digits, - and _)`);
    const { type, default: value, doc } = (spec ?? {}) as Record<string, unknown>;
    const typed = optionTypes.includes(type as never) && fitsOption(type as never, value) && (doc === undefined || typeof doc === 'string');
    if (!typed) fail(`${id}: the option '${shown(name)}' needs a type (${optionTypes.join(', ')}) and a default of that type`);
  }
  return { id, description: rule.description as string, options: options as OptionsSpec, plugin };
}

/** A report as the sandbox gave it ({message, step number}), tied to the step of the plan it names. */
function tiedReport(report: unknown, check: PluginCheck, rule: string, plugin: Plugin): LintReport {
  const { message, step } = (report ?? {}) as { message?: unknown; step?: unknown };
  const wrong = (what: string) =>
    new CtcError('CT_LINT_RULE', `the rule ${rule} failed on ${check.name}: ${what}`, {
      source: display(plugin.file),
      hint: "a rule yields { message: string, step? } where step is one of the plan's steps",
    });
  if (typeof message !== 'string') throw wrong('it reported something without a message string');
  if (step === null || step === undefined) return { message: shown(message) };
  const found = check.plan.steps.find((s) => s.n === step);
  if (!found) throw wrong(`it reported step ${String(step)}, which the plan does not have`);
  return { message: shown(message), step: found };
}

/** Text from a plugin, as a line of ctc's output may hold it: control characters escaped, at most MESSAGE_MAX. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return safe.length > MESSAGE_MAX ? `${safe.slice(0, MESSAGE_MAX)}…` : safe;
}
