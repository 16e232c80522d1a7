// What a lint plugin imports as 'ctc/lint' (or 'ctc'): the types of the
// typed plan and of a rule, and small helpers. Not part of what an
// app.ct.ts sees: rules run in ctc lint, over plans, not in a container source.
//
//   import { defineRule, stepsOf } from 'ctc/lint';
//   export const rules = [
//     defineRule({
//       id: 'acme/no-host-network', description: '…', options: {},
//       *check(plan) { … yield { message: '…', step }; },
//     }),
//   ];

export type { ArgsOf, ArgValue, Plan, Step, StepKind, StepOf } from '../plan/steps.ts';
export type { LintFinding, LintReport, LintRule, OptionSpec, OptionsOf, OptionsSpec, OptionType, Severity } from '../compiler/lint/rule.ts';
export { defaultOptions, defineRule, firstOf, stepsOf } from '../compiler/lint/rule.ts';
export { subjectOf } from '../plan/steps.ts';
