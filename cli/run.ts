import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CtcError } from '../common/error.ts';
import type { Plan } from '../plan/steps.ts';
import type { ImageSource } from '../executor/native-bridge/run-image.ts';
import { parsePlan } from '../plan/text.ts';
import { findPlan, readPlanBytes } from '../plan/file.ts';
import { checkPlanSignature } from '../executor/signing/plan-signature.ts';
import { type Globals, parseCommand } from './args.ts';
import { bundlePlan } from './bundle.ts';
import { log } from './output.ts';
import { factory, failStep, refuseUnsupported } from './lifecycle.ts';

export const runHelp = `usage: ctc run [PLAN] [--id ID] [--allowed-signers FILE] [-d] [-t] [--pid-file F] [--console-socket S] [--no-pivot]
       ctc run [--bundle DIR] [-d] [-t] [--pid-file F] [--console-socket S] [--no-pivot] ID

Runs a container. The first form runs a plan (with no PLAN, the only *.plan
here, or under the project config's planDir); the second, runc's, compiles DIR/config.json (DIR defaults to the
current directory). In the foreground the container's stdio is this one's,
Ctrl-C goes to the container, and ctc exits with the container's exit code
(128+signal if it was killed); everything is removed after. With -d, ctc
returns once the process runs and leaves it to the native monitor, which
writes its stdout and stderr to its log (ctc logs ID; not with -t). -t
gives the process a terminal (interactive, window size followed), as
process.terminal does; --no-pivot moves the root onto / and chroots instead
of pivot_root (for roots on a ramdisk).

--allowed-signers FILE (or the allowedSigners of the config --config names)
runs a plan only if PLAN.sig, an OpenSSH signature in the namespace
ctc-plan (ctc sign, or ssh-keygen -Y sign -n ctc-plan), verifies over the
plan's bytes with a key FILE allows (ssh-keygen's ALLOWED SIGNERS format);
else nothing is done (CT_PLAN_UNSIGNED, CT_PLAN_SIGNATURE).

Environment: CTC_FAIL_STEP=N makes step N fail (after the steps before it
really ran), to test that everything is rolled back.`;

export async function runCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('run', args, {
    id: { type: 'string' },
    bundle: { type: 'string', short: 'b' },
    detach: { type: 'boolean', short: 'd' },
    'pid-file': { type: 'string' },
    'console-socket': { type: 'string' },
    'no-pivot': { type: 'boolean' },
    tty: { type: 'boolean', short: 't' },
    'no-new-keyring': { type: 'boolean' },
    'no-subreaper': { type: 'boolean' },
    'preserve-fds': { type: 'string' },
    'allowed-signers': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(runHelp), 0);
  refuseUnsupported(values);
  if (positionals.length > 1) throw new CtcError('CT_USAGE', 'run takes one plan or one container id', { hint: 'see `ctc run --help`' });
  const [arg] = positionals;
  // runc's form when a bundle is named or the argument is not a plan file.
  const runcForm = values.bundle !== undefined || (arg !== undefined && !arg.endsWith('.plan') && !existsSync(arg));
  const signers = values['allowed-signers'] ?? (await configuredSigners(g));
  if (runcForm && signers !== undefined) {
    throw new CtcError(
      'CT_PLAN_UNSIGNED',
      `a bundle is compiled here and carries no signature: with allowed signers (${signers}), ctc run runs only signed plans`,
      {
        hint: 'build the plan where it is reviewed, sign it (`ctc sign PLAN --key KEY`), and run the plan: `ctc run PLAN`',
      },
    );
  }
  const source: { plan: Plan; text: string; bundle?: string; file?: string; source: ImageSource } = runcForm
    ? await bundlePlan(values.bundle, g)
    : planSource(arg ?? (await planHere(g)), signers, g);
  const id = runcForm
    ? arg
    : (values.id ?? `${basename(source.file!, '.plan').replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}`);
  if (!id) throw new CtcError('CT_USAGE', 'run needs a container id', { hint: 'usage: ctc run --bundle DIR ID' });
  const code = await factory(g).create(id, source.plan, {
    mode: values.detach ? 'detached' : 'foreground',
    planText: source.text,
    bundle: runcForm ? source.bundle : undefined,
    pidFile: values['pid-file'],
    consoleSocket: values['console-socket'],
    tty: values.tty,
    noPivot: values['no-pivot'],
    failStep: failStep(),
    source: source.source,
    planDir: source.file ? dirname(resolve(source.file)) : source.bundle,
  });
  // as docker run -d: the id it made, for the caller's next command (the launcher prints it too: native/launcher/apply.c)
  if (values.detach && !runcForm && values.id === undefined) console.log(id);
  return code;
}

/** The only plan here, or with the planDir of a config --config names, the only one of this folder's sources there. */
async function planHere(g: Globals): Promise<string> {
  const { loadProject, planDirFor } = await import('./project.ts');
  const dir = planDirFor(process.cwd(), await loadProject(null, g));
  return dir === process.cwd() ? findPlan() : join(dir, findPlan(dir));
}

/** The plan, read once: with allowed signers, its signature is checked over these bytes before they are parsed. */
function planSource(file: string, signers: string | undefined, g: Globals) {
  const bytes = readPlanBytes(file);
  if (signers !== undefined) approve(file, bytes, signers, g);
  const text = bytes.toString('utf8');
  return { file, plan: parsePlan(text, file), text, bundle: undefined, source: { kind: 'plan', bytes: Buffer.from(text) } as const };
}

/** The config's allowedSigners: read only from a config --config names, as every container command reads its config. */
async function configuredSigners(g: Globals): Promise<string | undefined> {
  if (g.config === undefined) return undefined;
  const { loadProject } = await import('./project.ts');
  return (await loadProject(null, g)).allowedSigners.value;
}

/** Refuses a plan no allowed key signed; says who signed one it runs (stderr, and the --log). */
function approve(file: string, bytes: Buffer, signers: string, g: Globals): void {
  const a = checkPlanSignature(file, bytes, signers);
  const msg = `plan ${file} signed by ${a.principals} (${a.key}, allowed by ${a.at})`;
  process.stderr.write(`ctc: ${msg}\n`);
  log(g, { level: 'info', msg, principals: a.principals, key: a.key });
}
