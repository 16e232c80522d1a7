// The entry of the V8 startup snapshot that `ctc build` runs from.
//
// Loading TypeScript, parsing the default library and compiling the checker's
// functions is most of a cold build (~2 s). scripts/build.mjs (buildSnapshot)
// bundles this file, TypeScript included, into one script and runs it once at
// install time with `node --build-snapshot`. It type-checks the examples, so
// the heap it leaves in dist/build.blob holds TypeScript evaluated, the bytecode
// of the functions a build runs, the lib .d.ts files and the stdlib parsed and
// bound, the stdlib transpiled and known to check clean (compiler/frontend/ts.ts
// keeps them). `ctc build` (cli/build.ts, cli/snapshot.ts) then runs as
// `node --snapshot-blob dist/build.blob -- ARGV`, which lands in `main` below.
// A kept file is used only while its text on disk is the same, so a stale
// snapshot makes a build slower, never different.

import { join } from 'node:path';
import v8 from 'node:v8';
import ts from 'typescript';
import { CtcError } from '../common/error.ts';
import { sandboxFilterHex } from '../compiler/frontend/sandbox-policy.ts';
import { checkTs } from '../compiler/frontend/ts.ts';
import { packageRoot } from '../common/package.ts';
import { splitGlobals, type Globals } from './args.ts';
import { buildCommand } from './build.ts';
import { report } from './output.ts';

/**
 * Where typescript.js is on this host: its lib .d.ts files are next to it, not
 * next to this bundle. Read once, when scripts/build.mjs makes the snapshot
 * (the script is bundled before, in another place: npm pack's prepack).
 */
const typescriptJs = process.env.CTC_TYPESCRIPT_JS;
if (!typescriptJs) throw new Error('ctc: the build snapshot is made by scripts/build.mjs, which sets CTC_TYPESCRIPT_JS');
ts.sys.getExecutingFilePath = () => typescriptJs;

/**
 * Type-checks and transpiles the examples, which parses and binds the lib
 * files and the stdlib. Nothing is evaluated (that happens in a sandboxed
 * process, compiler/frontend/sandbox.ts, at build time).
 */
function warmUp(): void {
  for (const name of ['hello.ct.ts', 'limits.ct.ts']) checkTs(join(packageRoot(), 'examples', name));
  sandboxFilterHex(); // the evaluation sandbox's seccomp program, compiled once, kept in the heap
}

async function main(argv: string[]): Promise<number> {
  let globals: Globals = { logFormat: 'text', help: false, version: false };
  try {
    const split = splitGlobals(argv);
    globals = split.globals;
    if (split.command !== 'build') throw new CtcError('CT_USAGE', `the build snapshot runs only \`ctc build\`, not '${split.command}'`);
    return await buildCommand(split.rest, { inProcess: true });
  } catch (e) {
    report(e, globals);
    return e instanceof CtcError && e.code === 'CT_USAGE' ? 2 : 1;
  }
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // `node --snapshot-blob BLOB -- ARGV`: process.argv is [node, ...ARGV]
  main(process.argv.slice(1)).then((code) => (process.exitCode = code));
});

try {
  warmUp();
} catch (e) {
  console.error('ctc: the build snapshot could not compile the examples:', e);
  process.exit(1);
}
