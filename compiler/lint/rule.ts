// The policy-rule API of `ctc lint`: a rule reads a parsed plan (the typed
// steps parsePlan gives) and reports what breaks a policy, each report tied
// to a step, so its finding carries that step's source line. The stdlib's
// rules (rules/) and a project's plugins are written against the same types,
// which users import from 'ctc/lint' (stdlib/lint.ts).

import type { Plan, Step, StepKind, StepOf } from '../../plan/steps.ts';

export type Severity = 'error' | 'warning';

/** The JSON types an option may take in a config file. */
export const optionTypes = ['boolean', 'number', 'string', 'strings', 'boolean|number'] as const;
export type OptionType = (typeof optionTypes)[number];

interface TypeOf {
  boolean: boolean;
  number: number;
  string: string;
  strings: readonly string[];
  'boolean|number': boolean | number;
}

export interface OptionSpec<T extends OptionType = OptionType> {
  type: T;
  default: TypeOf[T];
  doc: string;
}

/** A rule's options, each with its type, default and meaning: configs are checked against it. */
export type OptionsSpec = Record<string, OptionSpec>;
/** The option values a rule receives: every option present, typed. */
export type OptionsOf<S extends OptionsSpec> = { readonly [K in keyof S]: TypeOf[S[K]['type']] };

/** What a rule reports: a message, and the step it is about (its source line is the finding's). */
export interface LintReport {
  message: string;
  step?: Step;
}

export interface LintRule<S extends OptionsSpec = OptionsSpec> {
  /** kebab-case; a plugin's rules are named `plugin-name/rule` by convention */
  id: string;
  description: string;
  options: S;
  check(plan: Plan, options: OptionsOf<S>): Iterable<LintReport>;
}

/** One result of `ctc lint`, as it prints and as `--format json` gives it. */
export interface LintFinding {
  rule: string;
  severity: Severity;
  message: string;
  /** the plan file, or the source the plan was built from in memory */
  plan: string;
  step?: number;
  kind?: StepKind;
  /** file:line:col, relative to the current directory when the file is found */
  source?: string;
}

/** Declares a rule; an identity function that lets TypeScript infer the options' types. */
export function defineRule<const S extends OptionsSpec>(rule: LintRule<S>): LintRule<S> {
  return rule;
}

/** The plan's steps of one kind, their arguments typed. */
export function stepsOf<K extends StepKind>(plan: Plan, kind: K): StepOf<K>[] {
  return plan.steps.filter((s) => s.kind === kind) as unknown as StepOf<K>[];
}

/** The first step of a kind, if the plan has one. */
export function firstOf<K extends StepKind>(plan: Plan, kind: K): StepOf<K> | undefined {
  return stepsOf(plan, kind)[0];
}

/** The option defaults of a rule. */
export function defaultOptions<S extends OptionsSpec>(rule: Pick<LintRule<S>, 'options'>): OptionsOf<S> {
  return Object.fromEntries(Object.entries(rule.options).map(([k, o]) => [k, o.default])) as OptionsOf<S>;
}

/** Whether a value (from a config, or a plugin's default) is of an option's type. */
export function fitsOption(type: OptionType, v: unknown): boolean {
  switch (type) {
    case 'boolean':
    case 'number':
    case 'string':
      return typeof v === type;
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'boolean|number':
      return typeof v === 'boolean' || typeof v === 'number';
  }
}
