import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CtcError, formatError } from '../compiler/error.ts';
import type { Plan } from '../compiler/plan/steps.ts';
import type { ImageSource } from '../executor/image.ts';

/** Compiles an OCI bundle's config.json (runc's --bundle, default the current directory). */
export async function bundlePlan(bundleDir = '.'): Promise<{ plan: Plan; text: string; bundle: string; source: ImageSource }> {
  const bundle = resolve(bundleDir);
  const config = join(bundle, 'config.json');
  if (!existsSync(config)) throw new CtcError('CT_SOURCE_READ', `no config.json in the bundle ${bundle}`, { hint: 'give the bundle with --bundle DIR' });
  const source: ImageSource = { kind: 'bundle', dir: bundle, config: readFileSync(config) };
  const { build } = await import('../compiler/build.ts');
  const { plan, text, warnings } = await build(config);
  // runc logs such adjustments as warnings: on stderr, which the caller (a shim) keeps
  for (const w of warnings) process.stderr.write(`ctc: ${formatError(w, 'warning')}\n`);
  return { plan, text, bundle, source };
}
