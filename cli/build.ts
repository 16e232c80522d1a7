import { writeFileSync } from 'node:fs';
import { CtcError } from '../compiler/error.ts';
import { parseCommand } from './args.ts';

export const buildHelp = `usage: ctc build SRC [-o PLAN]

Compiles a container source (app.ct.ts) to a plan: the ordered kernel steps
that will create it. Writes PLAN, by default next to SRC with the .plan ending.`;

export async function buildCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand('build', args, { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return void console.log(buildHelp), 0;
  const [src = 'app.ct.ts', ...extra] = positionals;
  if (extra.length) throw new CtcError('CT_USAGE', `build takes one source, not ${positionals.length}`);
  // The compiler (and TypeScript) load only here: `ctc run` never pays for them.
  const { build, defaultPlanPath } = await import('../compiler/build.ts');
  const { text } = await build(src);
  const out = values.output ?? defaultPlanPath(src);
  writeFileSync(out, text);
  process.stderr.write(`ctc: wrote ${out}\n`);
  return 0;
}
