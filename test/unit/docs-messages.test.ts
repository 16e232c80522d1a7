// The messages the docs show are the ones ctc prints: each example here is
// built for real and its stderr compared with the page's text.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctc, root, tempDir } from '../helpers.ts';

const page = (name: string) => readFileSync(join(root, 'docs', name), 'utf8');

/** The fenced blocks that follow a heading, in order. */
function blocksAfter(text: string, heading: string): string[] {
  const at = text.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `the page has ${heading}`);
  return [...text.slice(at).matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Runs `ctc ARGS` in a fresh folder holding FILES; its stderr, without a terminal (no snippet). */
function stderrOf(files: Record<string, string>, args: string[]): { code: number; stderr: string } {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, '.git'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(t.dir, name), text);
    const r = ctc(args, { cwd: t.dir });
    return { code: r.status ?? -1, stderr: r.stderr };
  } finally {
    t.remove();
  }
}

test("docs/ct-language.md's Errors example is what ctc build prints for its source", () => {
  const [source, output] = blocksAfter(page('ct-language.md'), '## Errors');
  const r = stderrOf({ 'app.ct': source }, ['build', 'app.ct']);
  assert.is(r.code, 1);
  assert.fixture(r.stderr, output);
});

/** An inline example `ctc: FILE:L:C: error CT_CODE: …` of a page, with its line breaks joined. */
function inlineExample(text: string, start: string): string {
  const at = text.indexOf(`\`ctc: ${start}`);
  assert.ok(at >= 0, `the page shows ${start}`);
  return text.slice(at + 1, text.indexOf('`', at + 1)).replace(/\n/g, ' ');
}

test("docs/configuration.md's CT_CONFIG example is what a config with that key gets", () => {
  const shown = inlineExample(page('configuration.md'), 'ctc.config.json:1:2');
  const r = stderrOf({ 'ctc.config.json': '{"roots": "x"}\n', 'app.ct': 'container {}\n' }, ['config']);
  assert.is(r.stderr.split('\n')[0], shown);
});

test("docs/review.md's lint rule example is what a config naming that rule gets", () => {
  const shown = inlineExample(page('review.md'), 'ctc.config.json:3:16');
  const config = '{\n  "lint": {\n    "rules": { "seccomp-requird": "error" }\n  }\n}\n';
  const r = stderrOf({ 'ctc.config.json': config }, ['config']);
  assert.is(r.stderr.split('\n')[0], shown);
});

test.run();
