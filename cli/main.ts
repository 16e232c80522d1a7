// ctc's command line: parses arguments, calls the compiler or the executor,
// prints. Exit codes: the container's own for run and exec; 1 for errors;
// 2 for usage errors.

import { packageVersion } from '../compiler/package.ts';
import { CtcError } from '../compiler/error.ts';
import { splitGlobals, type Globals } from './args.ts';
import { report } from './output.ts';

const help = `usage: ctc [--root DIR] [--log FILE] [--log-format text|json] COMMAND [ARGS]

ctc compiles containers: a typed source becomes a plan, the exact kernel
steps that create the container, and ctc runs plans. It also speaks runc's
command line, so orchestrators can use it as their OCI runtime.

compiler:
  build SRC [-o PLAN]     compile app.ct.ts (or a config.json) to a plan (--json: print it as JSON)
  check [SRC...]          is each committed plan what its source builds to now? (for CI)
  diff OLD NEW            step-level diff of plans or sources, with risk notes
  diff REV -- SRC...      the same, against the source as of a git revision
  lint [PLAN|SRC...]      check plans against policy rules (the ctc config's "lint")
  explain PLAN STEP       what a step does to the kernel: effect, syscalls, source, preset
  spec                    write a default config.json, as runc spec does

containers:
  run [PLAN | -b DIR ID]  run a plan or a bundle (foreground, or -d)
  create -b DIR ID        set up a container; its process waits for start
  start ID                start a created container's process
  state ID                print the OCI state
  list                    list containers
  ps ID                   list a container's processes
  exec ID CMD...          run a process in a container
  kill ID [SIGNAL]        signal a container (--all: every process)
  pause ID, resume ID     freeze and thaw a container
  update [flags] ID       change a running container's limits (runc's flags, -r FILE)
  stats ID                print resource usage (JSON, as runc events --stats)
  events [--interval] ID  stream stats and OOM events as JSON lines
  delete ID               remove a stopped container (--force: any)

global options:
  --root DIR              state root (default /run/ctc)
  --log FILE              also write errors to FILE
  --log-format FORMAT     text or json (for --log)
  --version, --help`;

type Command = (args: string[], globals: Globals) => number | Promise<number>;

// Each command's module loads only when it runs: `ctc build` starts its
// compiler process before the executor's modules would have loaded.
const lifecycle = () => import('./lifecycle.ts');
const resources = () => import('./resources.ts');

const commands: Record<string, Command> = {
  build: async (args) => (await import('./build.ts')).buildCommand(args),
  check: async (args) => (await import('./check.ts')).checkCommand(args),
  diff: async (args) => (await import('./diff.ts')).diffCommand(args),
  lint: async (args) => (await import('./lint.ts')).lintCommand(args),
  explain: async (args) => (await import('./explain.ts')).explainCommand(args),
  spec: async (args) => (await import('./spec.ts')).specCommand(args),
  run: async (args, g) => (await import('./run.ts')).runCommand(args, g),
  create: async (args, g) => (await lifecycle()).createCommand(args, g),
  start: async (args, g) => (await lifecycle()).startCommand(args, g),
  state: async (args, g) => (await lifecycle()).stateCommand(args, g),
  list: async (args, g) => (await lifecycle()).listCommand(args, g),
  ps: async (args, g) => (await lifecycle()).psCommand(args, g),
  exec: async (args, g) => (await import('./exec.ts')).execCommand(args, g),
  kill: async (args, g) => (await lifecycle()).killCommand(args, g),
  delete: async (args, g) => (await lifecycle()).deleteCommand(args, g),
  pause: async (args, g) => (await lifecycle()).pauseCommand(args, g),
  resume: async (args, g) => (await lifecycle()).resumeCommand(args, g),
  events: async (args, g) => (await resources()).eventsCommand(args, g),
  update: async (args, g) => (await resources()).updateCommand(args, g),
  stats: async (args, g) => (await resources()).statsCommand(args, g),
  checkpoint: async () => (await lifecycle()).notYet('checkpoint', 13)(),
  restore: async () => (await lifecycle()).notYet('restore', 13)(),
};

async function main(argv: string[]): Promise<number> {
  let globals: Globals = { logFormat: 'text', help: false, version: false };
  try {
    const split = splitGlobals(argv);
    globals = split.globals;
    if (globals.version) return void console.log(`ctc version ${packageVersion()}\nspec: 1.2.0`), 0;
    if (globals.help || !split.command) return void console.log(help), globals.help ? 0 : 2;
    const command = commands[split.command];
    if (!command) throw new CtcError('CT_USAGE', `unknown command '${split.command}'`, { hint: 'see `ctc --help`' });
    return await command(split.rest, globals);
  } catch (e) {
    report(e, globals);
    return e instanceof CtcError && e.code === 'CT_USAGE' ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
