import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stepKindsMarkdown } from '../../plan/docs.ts';
import { root } from '../helpers.ts';

const BEGIN = /<!-- step-kinds:begin[^>]*-->\n/;
const END = /\n?<!-- step-kinds:end -->/;

test("docs/plan-format.md's step table is the step table", () => {
  const file = join(root, 'docs', 'plan-format.md');
  const readme = readFileSync(file, 'utf8');
  const begin = BEGIN.exec(readme);
  const end = END.exec(readme);
  assert.ok(begin && end && end.index > begin.index, 'the page has the step-kinds markers, in order');
  const head = readme.slice(0, begin!.index + begin![0].length);
  const tail = readme.slice(end!.index + end![0].length);
  const expected = `${head}${stepKindsMarkdown()}\n<!-- step-kinds:end -->${tail}`;
  if (process.env.CTC_UPDATE_GOLDEN) writeFileSync(file, expected);
  assert.fixture(readme, expected);
  assert.ok(head.startsWith('# The plan format'), 'what precedes the table is kept');
});

// A clone has only the repository: a link that leaves it, or names a file it
// does not hold, is broken for every reader. (Anchors are not checked.)
test('the README and docs/ link only to files in the repository', () => {
  const pages = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  const broken = pages.flatMap((page) =>
    localLinks(readFileSync(join(root, page), 'utf8')).flatMap((href) => {
      const target = resolve(root, dirname(page), decodeURI(href.split('#')[0]));
      const inside = !relative(root, target).startsWith('..');
      return inside && existsSync(target) ? [] : [`${page}: ${href}`];
    }),
  );
  assert.equal(broken, []);
});

/** The targets of a page's links that are paths (not URLs, not anchors on the same page). */
function localLinks(markdown: string): string[] {
  const hrefs: string[] = [];
  const walk = (tokens: ReturnType<MarkdownIt['parse']>) => {
    for (const t of tokens) {
      if (t.type === 'link_open') hrefs.push(t.attrGet('href') ?? '');
      if (t.children) walk(t.children);
    }
  };
  walk(new MarkdownIt().parse(markdown, {}));
  return hrefs.filter((h) => h && !h.startsWith('#') && !/^[a-z][a-z0-9+.-]*:/i.test(h));
}

test.run();
