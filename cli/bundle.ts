import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CtcError, formatError } from '../common/error.ts';
import type { Plan } from '../plan/steps.ts';
import type { ImageSource } from '../executor/native-bridge/run-image.ts';
import type { Globals } from './args.ts';
import { log } from './output.ts';

/** Compiles an OCI bundle's config.json (runc's --bundle, default the current directory). */
export async function bundlePlan(
  bundleDir: string | undefined,
  g: Pick<Globals, 'log' | 'logFormat'>,
): Promise<{ plan: Plan; text: string; bundle: string; source: ImageSource }> {
  const bundle = resolve(bundleDir ?? '.');
  const config = join(bundle, 'config.json');
  if (!existsSync(config))
    throw new CtcError('CT_SOURCE_READ', `no config.json in the bundle ${bundle}`, { hint: 'give the bundle with --bundle DIR' });
  const source: ImageSource = { kind: 'bundle', dir: bundle, config: readFileSync(config) };
  const { build } = await import('../compiler/build.ts');
  const { plan, text, warnings } = await build(config);
  // runc logs such adjustments as warnings: to its --log when given, else to
  // stderr. Never both: conmon hands create the container's own stdout and
  // stderr, so a warning there would be the container's first log line.
  for (const w of warnings) {
    if (g.log) log(g, { level: 'warning', msg: formatError(w, 'warning') });
    else process.stderr.write(`ctc: ${formatError(w, 'warning')}\n`);
  }
  return { plan, text, bundle, source };
}
