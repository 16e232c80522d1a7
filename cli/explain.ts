// `ctc explain PLAN STEP`: what one step of a plan does, for a reviewer.

import { CtcError } from '../common/error.ts';
import { explainStep, formatExplanation } from '../compiler/explain/index.ts';
import { type Globals, parseCommand } from './args.ts';
import { readPlanInput } from './plan-input.ts';

export const explainHelp = `usage: ctc explain PLAN STEP [--format text|json]

Explains step STEP (its number) of PLAN (or of a source, built in memory):
its effect on the kernel, the system calls that apply it, the source line
that asked for it, and the stdlib preset its values come from
(defaultMounts, maskedPaths.default, defaultSeccomp, defaultCapabilities, …).
A plan does not record presets: ctc compares the step's values with the
presets' and reads the source line to see whether it names one.`;

export async function explainCommand(args: string[], g?: Globals): Promise<number> {
  const { values, positionals } = parseCommand('explain', args, {
    format: { type: 'string', default: 'text' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(explainHelp), 0);
  if (values.format !== 'text' && values.format !== 'json')
    throw new CtcError('CT_USAGE', `--format is text or json, not ${values.format}`);
  const [file, n, ...extra] = positionals;
  if (!file || !n || extra.length)
    throw new CtcError('CT_USAGE', 'explain takes a plan and a step number', { hint: 'ctc explain app.plan 12' });
  if (!/^\d+$/.test(n))
    throw new CtcError('CT_USAGE', `the step is a number, not ${n}`, { hint: "the number at the start of the step's line in the plan" });
  const input = await readPlanInput(file, g);
  const e = explainStep(input.plan, Number(n), file, input.sourceDir);
  console.log(values.format === 'json' ? JSON.stringify(e, null, 2) : formatExplanation(e));
  return 0;
}
