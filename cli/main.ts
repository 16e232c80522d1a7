// ctc's command line: parses arguments, calls the compiler or the executor,
// prints. Exit codes: the container's own for run; 1 for errors; 2 for usage.

import { packageVersion } from '../compiler/package.ts';
import { CtcError } from '../compiler/error.ts';
import { splitGlobals, type Globals } from './args.ts';
import { buildCommand } from './build.ts';
import { report } from './output.ts';
import { runCommand } from './run.ts';

const help = `usage: ctc [--root DIR] [--log FILE] [--log-format text|json] COMMAND [ARGS]

ctc compiles containers: a typed source becomes a plan, the exact kernel
steps that create the container, and ctc runs plans.

commands:
  build SRC [-o PLAN]   compile app.ct.ts to app.plan
  run [PLAN]            run a plan in the foreground

global options:
  --root DIR            state root (default /run/ctc)
  --log FILE            also write errors to FILE
  --log-format FORMAT   text or json (for --log)
  --version, --help`;

const commands: Record<string, (args: string[], globals: Globals) => Promise<number>> = {
  build: (args) => buildCommand(args),
  run: runCommand,
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
