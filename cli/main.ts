// ctc's command line: parses arguments, calls the compiler or the executor,
// prints. Exit codes: the container's own for run and exec; 1 for errors;
// 2 for usage errors.

import { packageVersion } from '../common/package.ts';
import { CtcError } from '../common/error.ts';
import { closest } from '../compiler/frontend/dsl/names.ts';
import { splitGlobals, type Globals } from './args.ts';
import { asksHelp, commandHelp, overviewHelp as help } from './help.ts';
import { report } from './output.ts';

type Command = (args: string[], globals: Globals) => number | Promise<number>;

// Each command's module loads only when it runs: `ctc build` starts its
// compiler process before the executor's modules would have loaded.
const lifecycle = () => import('./lifecycle.ts');
const resources = () => import('./resources.ts');

// The project config fills the global options the command line left out
// (cli/project.ts): for the commands that read sources or plans, found from
// the first file named (build and check look per source); the container
// commands read only a config --config names.
const named =
  (command: Command): Command =>
  async (args, g) => {
    if (g.config !== undefined) await (await import('./project.ts')).configure(g, null);
    return command(args, g);
  };
const near =
  (command: Command): Command =>
  async (args, g) => {
    const { argumentDir, configure } = await import('./project.ts');
    await configure(g, await argumentDir(args));
    return command(args, g);
  };

const commands: Record<string, Command> = {
  build: async (args, g) => (await import('./build.ts')).buildCommand(args, { globals: g }),
  check: async (args, g) => (await import('./check.ts')).checkCommand(args, g),
  diff: near(async (args) => (await import('./diff.ts')).diffCommand(args)),
  lint: near(async (args, g) => (await import('./lint.ts')).lintCommand(args, g)),
  explain: near(async (args, g) => (await import('./explain.ts')).explainCommand(args, g)),
  spec: async (args) => (await import('./spec.ts')).specCommand(args),
  fmt: async (args) => (await import('./fmt.ts')).fmtCommand(args),
  config: async (args, g) => (await import('./config.ts')).configCommand(args, g),
  init: async (args, g) => (await import('./init.ts')).initCommand(args, g),
  sign: async (args) => (await import('./sign.ts')).signCommand(args),
  run: named(async (args, g) => (await import('./run.ts')).runCommand(args, g)),
  create: named(async (args, g) => (await lifecycle()).createCommand(args, g)),
  start: named(async (args, g) => (await lifecycle()).startCommand(args, g)),
  state: named(async (args, g) => (await lifecycle()).stateCommand(args, g)),
  list: named(async (args, g) => (await lifecycle()).listCommand(args, g)),
  ps: named(async (args, g) => (await lifecycle()).psCommand(args, g)),
  exec: named(async (args, g) => (await import('./exec.ts')).execCommand(args, g)),
  kill: named(async (args, g) => (await lifecycle()).killCommand(args, g)),
  stop: named(async (args, g) => (await lifecycle()).stopCommand(args, g)),
  logs: named(async (args, g) => (await import('./logs.ts')).logsCommand(args, g)),
  delete: named(async (args, g) => (await lifecycle()).deleteCommand(args, g)),
  gc: named(async (args, g) => (await lifecycle()).gcCommand(args, g)),
  pause: named(async (args, g) => (await lifecycle()).pauseCommand(args, g)),
  resume: named(async (args, g) => (await lifecycle()).resumeCommand(args, g)),
  events: named(async (args, g) => (await resources()).eventsCommand(args, g)),
  update: named(async (args, g) => (await resources()).updateCommand(args, g)),
  stats: named(async (args, g) => (await resources()).statsCommand(args, g)),
  checkpoint: named(async (args, g) => (await import('./checkpoint.ts')).checkpointCommand(args, g)),
  restore: named(async (args, g) => (await import('./checkpoint.ts')).restoreCommand(args, g)),
  'compile-server': async (args, g) => (await import('./compile-server.ts')).compileServerCommand(args, g),
  help: (args, g) => helpCommand(args, g),
  completion: async (args) => (await import('./completion.ts')).completionCommand(args, Object.keys(commands)),
};

/** `ctc help [COMMAND]`: a command's help is what `ctc COMMAND --help` prints. */
function helpCommand(args: string[], g: Globals): number | Promise<number> {
  if (args.length === 0) return (void console.log(help), 0);
  if (args.length > 1) throw new CtcError('CT_USAGE', 'help takes one command', { hint: 'usage: ctc help [COMMAND]' });
  return dispatch(args[0], ['--help'], g);
}

function dispatch(name: string, args: string[], g: Globals): number | Promise<number> {
  const command = commands[name];
  if (!command) {
    const near = closest(name, Object.keys(commands));
    throw new CtcError('CT_USAGE', `unknown command '${name}'`, {
      hint: near ? `did you mean '${near}'? (see \`ctc --help\`)` : 'see `ctc --help`',
    });
  }
  // The container commands' help is cli/help.ts's; the others print their own.
  if (commandHelp[name] && asksHelp(args)) return (void console.log(commandHelp[name]), 0);
  return command(args, g);
}

async function main(argv: string[]): Promise<number> {
  let globals: Globals = { logFormat: 'text', help: false, version: false };
  try {
    const split = splitGlobals(argv);
    globals = split.globals;
    if (globals.version) return (void console.log(`ctc version ${packageVersion()}\nspec: 1.2.0`), 0);
    if (globals.help || !split.command) return (void console.log(help), globals.help ? 0 : 2);
    return await dispatch(split.command, split.rest, globals);
  } catch (e) {
    report(e, globals);
    return e instanceof CtcError ? (e.exit ?? (e.code === 'CT_USAGE' ? 2 : 1)) : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
