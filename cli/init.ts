// `ctc init [DIR] [--lang ts|ct]`: a starter container in DIR that builds
// and runs as it is (`ctc build app.ct.ts && ctc run`, or app.ct). Nothing is
// overwritten: if any file it would write is there, none is written.

import { appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CtcError } from '../common/error.ts';
import { display } from '../compiler/config.ts';
import { type Lang, scaffold } from '../compiler/scaffold.ts';
import { type Globals, parseCommand } from './args.ts';
import { loadProject } from './project.ts';

export const initHelp = `usage: ctc init [DIR] [--lang ts|ct]

Writes a starter container in DIR (default: here; made if missing): with
--lang ts (the default) app.ct.ts and a tsconfig.json that maps 'ctc' and
'ctc/lint' to this ctc's stdlib, so an editor type-checks the source; with
--lang ct app.ct. And ctc.config.json (lint rules), unless a ctc config in
a parent folder already applies, which a new one would hide. The source
spells out the project's rootfs and presets settings (see ctc config).
Refuses to overwrite any file: then it writes none.

  --lang ts|ct   the source language: TypeScript, or the .ct language`;

export async function initCommand(args: string[], g?: Globals): Promise<number> {
  const { values, positionals } = parseCommand('init', args, {
    lang: { type: 'string', default: 'ts' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return void console.log(initHelp), 0;
  if (values.lang !== 'ts' && values.lang !== 'ct') throw new CtcError('CT_USAGE', `--lang is ts or ct, not ${values.lang}`);
  if (positionals.length > 1) throw new CtcError('CT_USAGE', 'init takes one folder');
  const dir = resolve(positionals[0] ?? '.');
  const project = await loadProject(dir, g);
  const files = scaffold({
    dir,
    lang: values.lang as Lang,
    rootfs: project.rootfs.value,
    presets: Object.fromEntries(Object.entries(project.presets).map(([k, s]) => [k, s.value])) as never,
    config: !project.config,
  });
  const there = files.filter((f) => existsSync(join(dir, f.name)));
  if (there.length) {
    throw new CtcError('CT_EXISTS', `${there.map((f) => display(join(dir, f.name))).join(', ')} already ${there.length === 1 ? 'exists' : 'exist'}: ctc init writes nothing over a file`, {
      hint: 'init an empty folder, or move those files away',
    });
  }
  mkdirSync(dir, { recursive: true });
  // 0644 whatever the umask: ctc refuses a config that group or others can write (CT_CONFIG_UNSAFE)
  for (const f of files) writeFileSync(join(dir, f.name), f.text, { flag: 'wx', mode: 0o644 });
  const ignored = gitignore(dir, [project.root.value, project.log.value]);
  const wrote = [...files.map((f) => f.name), ...(ignored ? ['.gitignore'] : [])];
  process.stderr.write(`ctc: wrote ${wrote.map((n) => display(join(dir, n))).join(', ')}\n`);
  if (project.config) process.stderr.write(`ctc: ${display(project.config.file)} applies here: no ctc.config.json written\n`);
  return 0;
}

/**
 * State and logs that the project's config puts inside DIR are kept out of
 * git; plans are not: they are committed, for review and `ctc check`. With
 * the default state root (/run/ctc) there is nothing to ignore.
 */
function gitignore(dir: string, paths: (string | undefined)[]): boolean {
  const inside = paths.filter((p): p is string => p !== undefined).map((p) => relative(dir, p)).filter((r) => r && !r.startsWith('..'));
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
