import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { CtcError } from '../compiler/error.ts';
import { runPlan } from '../executor/apply.ts';
import { findPlan, readPlan } from '../executor/plan-file.ts';
import { defaultStateRoot } from '../executor/state.ts';
import { parseCommand, type Globals } from './args.ts';

export const runHelp = `usage: ctc run [PLAN] [--id ID]

Runs a plan in the foreground: the container's stdio is this terminal's,
Ctrl-C goes to the container, and ctc exits with the container's exit code
(128+signal if it was killed). With no PLAN, runs the only *.plan here.

Environment: CTC_FAIL_STEP=N makes step N fail (after the steps before it
really ran), to test that everything is rolled back.`;

const ID = /^[A-Za-z0-9][A-Za-z0-9_+.-]{0,127}$/;

export async function runCommand(args: string[], globals: Globals): Promise<number> {
  const { values, positionals } = parseCommand('run', args, { id: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return void console.log(runHelp), 0;
  if (positionals.length > 1) throw new CtcError('CT_USAGE', 'run takes one plan');
  const file = positionals[0] ?? findPlan();
  const plan = readPlan(file);
  const id = values.id ?? `${basename(file, '.plan').replace(/[^A-Za-z0-9_+.-]/g, '_')}-${randomBytes(4).toString('hex')}`;
  if (!ID.test(id)) throw new CtcError('CT_USAGE', `'${id}' is not a valid container id`, { hint: 'letters, digits and _ + . -, at most 128' });
  return runPlan(plan, { id, root: globals.root ?? defaultStateRoot, failStep: failStep() });
}

function failStep(): number | undefined {
  const v = process.env.CTC_FAIL_STEP;
  if (v === undefined || v === '') return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new CtcError('CT_USAGE', `CTC_FAIL_STEP must be a step number, not '${v}'`);
  return Number(v);
}
