// The `lint` key of the ctc config: which rules run, at what level, with
// what options, and which plugin files add rules.
//
//   { "lint": {
//       "defaults": true,
//       "rules": { "seccomp-required": "error", "limits-required": ["warn", { "pids": 100 }] },
//       "plugins": ["./policy/my-rules.ts"] } }
//
// The default set (rules/index.ts) applies first, unless "defaults": false;
// the config's rules go on top ("off" turns one off). Every key, rule and
// option is checked, and a mistake is a CT_CONFIG error at its key. Plugins
// are read from the config's project only, and run sandboxed (plugins.ts).

import { dirname, resolve } from 'node:path';
import { SourceReader } from '../confine.ts';
import { type ProjectConfig, configError, locate } from '../config.ts';
import { type PluginRule, loadPlugin } from './plugins.ts';
import { type LintRule, type OptionSpec, type Severity, defaultOptions, fitsOption } from './rule.ts';
import { builtinRules, defaultRuleLevels } from './rules/index.ts';

/** A rule the config may name: ctc's own, or a plugin's. */
export type KnownRule = LintRule | PluginRule;

/** A rule as it will run. */
export interface ActiveRule {
  rule: KnownRule;
  severity: Severity;
  options: Record<string, unknown>;
}

export interface LintSetup {
  /** the config file, if one was found */
  file?: string;
  rules: ActiveRule[];
}

const levels: Readonly<Record<string, Severity | 'off'>> = { error: 'error', warn: 'warning', warning: 'warning', off: 'off' };
const lintKeys = ['defaults', 'rules', 'plugins'];

type Path = (string | number)[];
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The rules to run for a plan, from its project's config (or the default set without one). */
export async function lintSetup(config: ProjectConfig | undefined): Promise<LintSetup> {
  const lint = config?.values.lint;
  if (!config || lint === undefined) return { rules: defaultSet(builtinRules) };
  const fail = (path: Path, message: string, hint?: string): never => {
    throw configError(config, ['lint', ...path], message, hint);
  };
  if (!isObject(lint)) return fail([], 'expected an object with rules, plugins or defaults');
  for (const key of Object.keys(lint))
    if (!lintKeys.includes(key)) fail([key], `unknown key '${key}'`, `lint has the keys ${lintKeys.join(', ')}`);
  const known: KnownRule[] = [...builtinRules, ...(await pluginRules(config, lint.plugins, fail))];
  const useDefaults = lint.defaults ?? true;
  if (typeof useDefaults !== 'boolean') fail(['defaults'], 'expected true or false');
  const active = new Map((useDefaults ? defaultSet(builtinRules) : []).map((a) => [a.rule.id, a]));
  const rules = lint.rules ?? {};
  if (!isObject(rules)) return fail(['rules'], 'expected an object: rule id → "error" | "warn" | "off" | [level, options]');
  for (const [id, value] of Object.entries(rules)) {
    const rule =
      known.find((r) => r.id === id) ?? fail(['rules', id], `unknown rule '${id}'`, `the rules are ${known.map((r) => r.id).join(', ')}`);
    const setting = ruleSetting(rule, value, (p, m, h) => fail(['rules', id, ...p], m, h));
    if (setting) active.set(id, setting);
    else active.delete(id);
  }
  return { file: config.file, rules: [...active.values()] };
}

function defaultSet(rules: readonly LintRule[]): ActiveRule[] {
  return rules
    .filter((r) => defaultRuleLevels[r.id])
    .map((rule) => ({ rule, severity: defaultRuleLevels[rule.id], options: defaultOptions(rule) }));
}

async function pluginRules(config: ProjectConfig, plugins: unknown, fail: (path: Path, message: string) => never): Promise<PluginRule[]> {
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins)) return fail(['plugins'], 'expected a list of plugin files, relative to the config');
  // the config's project root confines what plugins read
  const reader = new SourceReader(config.file);
  const rules: PluginRule[] = [];
  for (const [i, p] of plugins.entries()) {
    if (typeof p !== 'string') fail(['plugins', i], 'expected a file path');
    for (const rule of await loadPlugin(resolve(dirname(config.file), p as string), reader, locate(config.file, ['lint', 'plugins', i]))) {
      if ([...builtinRules, ...rules].some((r) => r.id === rule.id)) fail(['plugins', i], `the rule '${rule.id}' is defined twice`);
      rules.push(rule);
    }
  }
  return rules;
}

/** "error", "warn", "off", or [level, options]; undefined for off. */
function ruleSetting(rule: KnownRule, value: unknown, fail: (path: Path, message: string, hint?: string) => never): ActiveRule | undefined {
  const [level, options = {}] = Array.isArray(value) ? value : [value];
  const severity = typeof level === 'string' ? levels[level] : undefined;
  if (!severity) return fail(Array.isArray(value) ? [0] : [], 'expected "error", "warn" or "off" (or [level, options])');
  if (Array.isArray(value) && value.length > 2) fail([2], 'expected [level, options]');
  if (!isObject(options)) return fail([1], 'expected an object of options');
  const names = Object.keys(rule.options);
  for (const [key, v] of Object.entries(options)) {
    const spec =
      (Object.hasOwn(rule.options, key) ? rule.options[key] : undefined) ??
      fail(
        [1, key],
        `unknown option '${key}'`,
        names.length ? `${rule.id} has the options ${names.join(', ')}` : `${rule.id} has no options`,
      );
    if (!fitsOption(spec.type, v)) fail([1, key], `expected ${describe(spec)}`);
  }
  return severity === 'off' ? undefined : { rule, severity, options: { ...defaultOptions(rule), ...options } };
}

const describe = (spec: OptionSpec) =>
  ({
    boolean: 'true or false',
    number: 'a number',
    string: 'a string',
    strings: 'a list of strings',
    'boolean|number': 'true, false or a number',
  })[spec.type];
