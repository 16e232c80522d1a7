import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CtcError, formatError } from '../common/error.ts';
import type { Step } from '../plan/steps.ts';
import { lsmActive, lsmName, lsmsNeeded } from '../executor/run/lsm.ts';
import { type Globals, parseCommand } from './args.ts';
import { buildFromSnapshot } from './snapshot.ts';

/** A plan is built for any host, but one this host will refuse deserves a word now. */
function warnAboutHost(steps: Step[]): void {
  for (const lsm of lsmsNeeded(steps).filter((l) => !lsmActive(l))) {
    process.stderr.write(
      `ctc: warning: the plan asks for ${lsmName[lsm]}, which is not active on this host: \`ctc run\` will refuse it here (CT_LSM_ABSENT)\n`,
    );
  }
}

export const buildHelp = `usage: ctc build SRC [-o PLAN] [--json] [--emit-bundle DIR]

Compiles a container source (app.ct.ts, or an OCI runtime config.json) to a
plan: the ordered kernel steps that will create it. Writes PLAN, by default
next to SRC with the .plan ending (config.json: config.plan), or under the
project config's planDir (the same relative folder there).

  -o PLAN              where to write the plan
  --json               also print the plan as JSON on stdout (the plan file is
                       still written): plan/schema/plan.v1.schema.json
  --emit-bundle DIR    instead, write an OCI bundle that runc can run:
                       DIR/config.json and, for hostRootfs(), DIR/rootfs
                       (with -o as well, the plan too)`;

/** The plan as JSON, read back from its text: the same facts, as the schema describes them. */
async function printJson(text: string, src: string): Promise<void> {
  const [{ planJson }, { parsePlan }] = await Promise.all([import('../plan/json.ts'), import('../plan/text.ts')]);
  process.stdout.write(JSON.stringify(planJson(parsePlan(text, src)), null, 2) + '\n');
}

/**
 * `inProcess`: compile here, as the build snapshot (cli/build-snapshot.ts)
 * does, instead of handing the build to a process started from it. The
 * project config is read before that hand-over (the snapshot holds no config
 * loader): the process started from the snapshot is given the plan path
 * and the log as flags.
 */
export async function buildCommand(
  args: string[],
  { inProcess = false, globals }: { inProcess?: boolean; globals?: Globals } = {},
): Promise<number> {
  const { values, positionals } = parseCommand('build', args, {
    output: { type: 'string', short: 'o' },
    'emit-bundle': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(buildHelp), 0);
  const [src = 'app.ct.ts', ...extra] = positionals;
  if (extra.length) throw new CtcError('CT_USAGE', `build takes one source, not ${positionals.length}`);
  let out = values.output;
  const bundleDir = values['emit-bundle'];
  if (!inProcess && globals) {
    const { configure, planPathFor } = await import('./project.ts');
    const project = await configure(globals, dirname(resolve(src)));
    if (out === undefined && bundleDir === undefined) {
      out = planPathFor(src, project);
      if (project.planDir.value !== undefined) mkdirSync(dirname(out), { recursive: true });
    }
  }
  // The same build, from a snapshot with TypeScript loaded and the stdlib parsed.
  if (!inProcess && src.endsWith('.ct.ts')) {
    const log = globals?.log === undefined ? [] : ['--log', globals.log, '--log-format', globals.logFormat];
    const status = buildFromSnapshot([...log, 'build', ...args, ...(out !== values.output ? ['-o', out!] : [])]);
    if (status !== undefined) return status;
  }
  // The compiler (and TypeScript) load only here: `ctc run` never pays for them.
  const { build, defaultPlanPath } = await import('../compiler/build.ts');
  const { spec, plan, text, warnings } = await build(src);
  for (const w of warnings) process.stderr.write(`ctc: ${formatError(w, 'warning')}\n`);
  warnAboutHost(plan.steps);
  if (values.json) await printJson(text, src);
  if (bundleDir !== undefined) {
    const { writeBundle } = await import('../compiler/oci/bundle.ts');
    const bundle = writeBundle(bundleDir, spec);
    process.stderr.write(`ctc: wrote the bundle ${bundle.dir} (config.json${bundle.rootfs ? ', rootfs' : ''})\n`);
    if (values.output === undefined) return 0;
  }
  const file = out ?? defaultPlanPath(src);
  // A project's tree may hold a symlink where its plan goes: replaced, never written through.
  const { writeCallerFile } = await import('../executor/container/caller-files.ts');
  writeCallerFile(file, text);
  process.stderr.write(`ctc: wrote ${file}\n`);
  return 0;
}
