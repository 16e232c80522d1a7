// `ctc init [DIR] [--lang ts|ct]`: a starter container in DIR that builds
// and runs as it is (`ctc build app.ct.ts && ctc run`, or app.ct), as a
// project that can move (no absolute paths): its package.json names ctc's
// package, its tsconfig.json finds the stdlib in node_modules. Nothing is
// overwritten: if any file it would write is there, none is written.

import { appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CtcError } from '../common/error.ts';
import { display } from '../compiler/config.ts';
import { PACKAGE_NAME } from '../common/package.ts';
import { type Lang, type NpmLayout, npmLayout, scaffold } from '../compiler/scaffold.ts';
import { type Globals, parseCommand } from './args.ts';
import { loadProject } from './project.ts';

export const initHelp = `usage: ctc init [DIR] [--lang ts|ct]

Writes a starter container in DIR (default: here; made if missing): with
--lang ts (the default) app.ct.ts and a tsconfig.json that maps 'ctc' and
'ctc/lint' to the stdlib of ctc's package in node_modules, so an editor and
\`npx tsc --noEmit\` type-check the source; with --lang ct app.ct. When DIR
is in no npm project or git repository (no package.json or .git there or
above), a package.json with ${PACKAGE_NAME} (and typescript) as
devDependencies; else it prints what to add there. And ctc.config.json
(lint rules), unless a ctc config in a parent folder already applies, which
a new one would hide. The source spells out the project's rootfs and presets
settings (see ctc config). No file holds an absolute path. Refuses to
overwrite any file: then it writes none. Prints the commands to run next.

  --lang ts|ct   the source language: TypeScript, or the .ct language`;

export async function initCommand(args: string[], g?: Globals): Promise<number> {
  const { values, positionals } = parseCommand('init', args, {
    lang: { type: 'string', default: 'ts' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(initHelp), 0);
  if (values.lang !== 'ts' && values.lang !== 'ct') throw new CtcError('CT_USAGE', `--lang is ts or ct, not ${values.lang}`);
  if (positionals.length > 1) throw new CtcError('CT_USAGE', 'init takes one folder');
  const dir = resolve(positionals[0] ?? '.');
  const project = await loadProject(dir, g);
  const npm = npmLayout(dir);
  const files = scaffold({
    dir,
    lang: values.lang as Lang,
    rootfs: project.rootfs.value,
    presets: Object.fromEntries(Object.entries(project.presets).map(([k, s]) => [k, s.value])) as never,
    config: !project.config,
    npm,
  });
  const there = files.filter((f) => existsSync(join(dir, f.name)));
  if (there.length) {
    throw new CtcError(
      'CT_EXISTS',
      `${there.map((f) => display(join(dir, f.name))).join(', ')} already ${there.length === 1 ? 'exists' : 'exist'}: ctc init writes nothing over a file`,
      {
        hint: 'init an empty folder, or move those files away',
      },
    );
  }
  mkdirSync(dir, { recursive: true });
  // 0644 whatever the umask: ctc refuses a config that group or others can write (CT_CONFIG_UNSAFE)
  for (const f of files) writeFileSync(join(dir, f.name), f.text, { flag: 'wx', mode: 0o644 });
  const ignored = gitignore(dir, [project.root.value, project.log.value]);
  const wrote = [...files.map((f) => f.name), ...(ignored ? ['.gitignore'] : [])];
  process.stderr.write(`ctc: wrote ${wrote.map((n) => display(join(dir, n))).join(', ')}\n`);
  if (project.config) process.stderr.write(`ctc: ${display(project.config.file)} applies here: no ctc.config.json written\n`);
  console.log(nextSteps(dir, values.lang as Lang, npm));
  return 0;
}

/** What to type next: into the folder, install ctc's package and typescript there, build, run (as root). */
function nextSteps(dir: string, lang: Lang, npm: NpmLayout): string {
  const source = lang === 'ts' ? 'app.ct.ts' : 'app.ct';
  // The project's own ctc is run through npx; a ctc on the PATH (a global install, a checkout's dist/) as it is.
  const ctc = npm.npx ? 'npx ctc' : 'ctc';
  const steps: [string, string][] = [];
  const cd = relative(process.cwd(), dir);
  if (cd) steps.push([`cd ${cd.includes(' ') ? JSON.stringify(cd) : cd}`, '']);
  if (npm.installIn !== undefined) {
    const what = lang === 'ts' ? `${PACKAGE_NAME} typescript` : PACKAGE_NAME;
    const install = npm.packageJson ? 'npm install' : `npm install --save-dev ${what}`;
    const where = npm.installIn === '.' ? install : `(cd ${npm.installIn} && ${install})`;
    steps.push([where, lang === 'ts' ? 'ctc and typescript, for your editor and `npx tsc --noEmit`' : "ctc, as the project's"]);
  }
  steps.push([`${ctc} build ${source}`, 'compile it to app.plan: the kernel steps, to review']);
  steps.push([`${process.geteuid?.() === 0 ? '' : 'sudo '}${ctc} run`, 'run app.plan (making a container needs root)']);
  const width = Math.max(...steps.map(([c]) => c.length)) + 2;
  return ['next:', ...steps.map(([c, why]) => `  ${why ? c.padEnd(width) + `# ${why}` : c}`)].join('\n');
}

/**
 * State and logs that the project's config puts inside DIR are kept out of
 * git; plans are not: they are committed, for review and `ctc check`. With
 * the default state root (/run/ctc) there is nothing to ignore.
 */
function gitignore(dir: string, paths: (string | undefined)[]): boolean {
  const inside = paths
    .filter((p): p is string => p !== undefined)
    .map((p) => relative(dir, p))
    .filter((r) => r && !r.startsWith('..'));
  if (!inside.length) return false;
  const file = join(dir, '.gitignore');
  const have = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const lines = inside.map((r) => `/${r}`).filter((l) => !have.includes(l));
  if (!lines.length) return false;
  // O_NOFOLLOW: a .gitignore that is a symlink is refused (ELOOP), not appended through
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    appendFileSync(fd, (have.length && have[have.length - 1] !== '' ? '\n' : '') + lines.join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}
