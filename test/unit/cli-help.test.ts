// The command line as a user meets it (issue 22): every command `ctc --help`
// lists answers `--help` and `ctc help CMD` with its usage line; a
// misspelled command or option gets the nearest one; a global option after
// the command says where it goes; on a terminal an error shows its source
// line with a caret. Through the built launcher, as a user types it.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { snippet } from '../../cli/output.ts';
import { root, tempDir } from '../helpers.ts';

const ctc = (...args: string[]) => spawnSync(join(root, 'dist', 'ctc'), args, { encoding: 'utf8', timeout: 30_000 });

/** The commands `ctc --help` lists: the first word of each entry under compiler: and containers:. */
function listed(): string[] {
  const text = ctc('--help').stdout;
  const sections = text.split(/\n(?=\S)/).filter((s) => /^(compiler|containers):/.test(s));
  const names = sections.flatMap((s) =>
    s
      .split('\n')
      .slice(1)
      .flatMap((line) =>
        line
          .trim()
          .split(/\s{2,}/)[0]
          .split(', ')
          .map((entry) => entry.split(' ')[0]),
      ),
  );
  return [...new Set(names.filter((n) => /^[a-z]+$/.test(n)))];
}

test('every command ctc --help lists answers --help and ctc help CMD with a usage line naming it', () => {
  const names = listed();
  assert.ok(names.length >= 27, `ctc --help lists the commands: ${names.join(' ')}`);
  for (const name of names) {
    for (const args of [
      [name, '--help'],
      ['help', name],
    ]) {
      const r = ctc(...args);
      assert.is(r.status, 0, `ctc ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: ctc ${name}\\b`), `ctc ${args.join(' ')}`);
    }
  }
});

test('the man page (dist/ctc.1, made from the help texts) has a section for every command ctc --help lists, with its usage line', () => {
  const page = readFileSync(join(root, 'dist', 'ctc.1'), 'utf8');
  assert.match(page, /^\.TH CTC 1 /);
  for (const name of listed()) {
    const section = page.split(/^\.SS /m).find((s) => s.startsWith(`${name}\n`));
    assert.ok(section, `ctc.1 has a section for ${name}`);
    assert.match(section!, new RegExp(`^usage: ctc ${name}\\b`, 'm'), `ctc.1's ${name} holds its usage`);
  }
  assert.not.match(page, /^[.'](?!TH|SH|SS|nf|fi)/m, 'no text line read as a roff request');
});

test('a misspelled command or option gets the nearest; a global option after the command says where it goes', () => {
  const typo = ctc('buidl', 'app.ct.ts');
  assert.is(typo.status, 2);
  assert.match(typo.stderr, /unknown command 'buidl'\n\s+hint: did you mean 'build'\?/);
  const option = ctc('delete', '--forse', 'web');
  assert.is(option.status, 2);
  assert.match(option.stderr, /hint: did you mean --force\?/);
  const global = ctc('list', '--root', '/tmp');
  assert.is(global.status, 2);
  assert.match(global.stderr, /--root is a global option: it goes before the command/);
  assert.not.match(global.stderr + typo.stderr + option.stderr, /\n\s+at /, 'no stack trace');
});

test("ctc completion bash, sourced in bash, completes commands after global options and each command's flags; zsh and fish name every command", () => {
  const script = ctc('completion', 'bash');
  assert.is(script.status, 0, script.stderr);
  const complete = (...words: string[]) => {
    const bash = `${script.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ctc; echo "\${COMPREPLY[*]}"`;
    return spawnSync('bash', ['-c', bash], { encoding: 'utf8' }).stdout.trim();
  };
  assert.is(complete('ctc', 'bu'), 'build');
  assert.is(complete('ctc', '--root', '/run/x', 'sto'), 'stop');
  assert.is(complete('ctc', 'update', '--memory-'), '--memory-reservation --memory-swap');
  assert.is(complete('ctc', 'delete', '--f'), '--force');
  for (const shell of ['zsh', 'fish']) {
    const out = ctc('completion', shell);
    assert.is(out.status, 0, out.stderr);
    for (const name of listed()) assert.ok(out.stdout.includes(name), `${shell} names ${name}`);
  }
  assert.is(ctc('completion', 'tcsh').status, 2);
});

test('on a terminal (python3 holds a pty) an error shows the source line with a caret under its column; through a pipe it does not', () => {
  const tmp = tempDir('ctc-snippet-');
  try {
    writeFileSync(
      join(tmp.dir, 'a.ct.ts'),
      "import { container, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n  hostnme: 'x',\n  process: { args: ['/bin/true'] },\n});\n",
    );
    const script = `import os, pty, sys\npid, fd = pty.fork()\nif pid == 0:\n    os.execv(sys.argv[1], ['ctc', 'build', 'a.ct.ts'])\nout = b''\nwhile True:\n    try:\n        d = os.read(fd, 4096)\n    except OSError:\n        break\n    if not d:\n        break\n    out += d\nsys.stdout.write(out.decode())`;
    const tty = spawnSync('python3', ['-c', script, join(root, 'dist', 'ctc')], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
    assert.match(tty.stdout.replace(/\r/g, ''), /a\.ct\.ts:4:3: error CT_TYPE: .*hostnme.*\n {2}\| {3}hostnme: 'x',\n {2}\| {3}\^\n/);
    const piped = spawnSync(join(root, 'dist', 'ctc'), ['build', 'a.ct.ts'], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
    assert.is(piped.status, 1);
    assert.not.match(piped.stderr, /\n {2}\| /, 'no snippet for a script reading the pipe');
  } finally {
    tmp.remove();
  }
});

// A plan's step sources are a stranger's text: the snippet reads only below the current folder.
test('the snippet reads only a regular file below the current folder, and escapes control characters', () => {
  const tmp = tempDir('ctc-snippet-');
  const cwd = process.cwd();
  try {
    mkdirSync(join(tmp.dir, 'work'));
    writeFileSync(join(tmp.dir, 'outside.ct'), 'secret\n');
    writeFileSync(join(tmp.dir, 'work', 'app.ct'), 'hostname \x1b[2Jweb\n');
    symlinkSync(join(tmp.dir, 'outside.ct'), join(tmp.dir, 'work', 'link.ct'));
    process.chdir(join(tmp.dir, 'work'));
    assert.is(snippet('app.ct:1:10'), '  | hostname \\x1b[2Jweb\n  |          ^\n');
    for (const place of [`${tmp.dir}/outside.ct:1:1`, '../outside.ct:1:1', 'link.ct:1:1', '/proc/kmsg:1:1', '/etc/passwd:1:1'])
      assert.is(snippet(place), '', place);
  } finally {
    process.chdir(cwd);
    tmp.remove();
  }
});

test.run();
