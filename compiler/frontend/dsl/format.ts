// `ctc fmt`: the canonical layout of a .ct file. It works on the tokens
// (comments are a token group of their own), so nothing the author wrote is
// lost or reordered: one statement per line, two spaces per block, one space
// between values, at most one blank line, comments where they were (on their
// own line, or after a statement). A block (not the container's) stays on one line — `{ a b }`,
// `{ a b; c d }`, `{ k { a b } }` — when it holds no comment, fits in 100
// columns, and holds one statement without a block, or was written on one line. The layout
// depends only on the tokens (`;` and line breaks among them), so formatting
// is idempotent.

import type { IToken } from 'chevrotain';
import { CtcError, throwAll } from '../../../common/error.ts';
import { Comment, Container, LCurly, RCurly, Sep, parseCt } from './parser.ts';

const WIDTH = 100;
const INDENT = '  ';

export function formatCt(text: string, file: string): string {
  const parsed = parseCt(text);
  throwAll(
    parsed.errors.map(
      (e) =>
        new CtcError('CT_SYNTAX', e.message, {
          source: `${file}:${e.at.line}:${e.at.col}`,
          hint: 'ctc fmt formats only a file that parses',
        }),
    ),
  );
  const toks = [...parsed.tokens, ...parsed.comments].sort((a, b) => a.startOffset - b.startOffset);

  // the matching '}' of each '{'
  const close = new Map<number, number>();
  const open: number[] = [];
  toks.forEach((t, i) => {
    if (t.tokenType === LCurly) open.push(i);
    if (t.tokenType === RCurly) close.set(open.pop()!, i);
  });

  /**
   * The block's statements on one line, if it may stay on one: one
   * statement, or several the author wrote on one line (`;` between them,
   * no line break inside the block).
   */
  const inline = (from: number): string | undefined => {
    const to = close.get(from)!;
    const statements: string[][] = [[]];
    let broken = false;
    let nested = false;
    for (let i = from + 1; i < to; i++) {
      const t = toks[i];
      if (t.tokenType === Comment) return undefined;
      if (t.tokenType === LCurly) {
        // a block in the block: only as the author wrote it, all on one line
        const inner = inline(i);
        if (inner === undefined) return undefined;
        statements[statements.length - 1].push(inner);
        nested = true;
        i = close.get(i)!;
      } else if (t.tokenType === Sep) {
        broken ||= t.image === '\n';
        if (statements[statements.length - 1].length) statements.push([]);
      } else statements[statements.length - 1].push(t.image);
    }
    const written = statements.filter((st) => st.length).map((st) => st.join(' '));
    if ((written.length > 1 || nested) && broken) return undefined;
    return written.length ? `{ ${written.join('; ')} }` : '{}';
  };

  const out: string[] = [];
  let depth = 0;
  let line = '';
  let lineBreak = false; // the statement on `line` has ended
  let newlines = 0; // since the last token that was not a separator
  let afterOpen = true; // nothing yet in this block (or file)
  let prev: IToken | undefined;

  const flush = () => {
    if (line) out.push(INDENT.repeat(depth) + line);
    line = '';
    lineBreak = false;
  };
  /** Before a statement or an own-line comment: end the last line, keep one blank line if there was one. */
  const startLine = (closing = false) => {
    const blank = newlines >= 2 && !afterOpen && !closing;
    if (line) flush();
    if (blank) out.push('');
  };

  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.tokenType === Sep) {
      if (t.image === '\n') newlines++;
      if (line) lineBreak = true;
      continue;
    }
    if (t.tokenType === Comment) {
      const trailing = prev !== undefined && prev.tokenType !== Sep && line !== '' && (prev.endLine ?? 0) === t.startLine;
      if (trailing) {
        line += `  ${t.image.trimEnd()}`;
        lineBreak = true;
      } else {
        startLine();
        line = t.image.trimEnd();
        flush();
        afterOpen = false;
      }
      newlines = 0;
      prev = t;
      continue;
    }
    if (t.tokenType === RCurly) {
      startLine(true);
      depth--;
      line = '}';
      lineBreak = true;
      afterOpen = false;
      newlines = 0;
      prev = t;
      continue;
    }
    if (lineBreak || !line) {
      startLine();
    }
    if (t.tokenType === LCurly) {
      const one = prev?.tokenType === Container ? undefined : inline(i);
      const width = INDENT.length * depth + line.length + 1 + (one?.length ?? 0);
      if (one !== undefined && width <= WIDTH) {
        line += (line ? ' ' : '') + one;
        i = close.get(i)!;
        prev = toks[i];
      } else {
        line += (line ? ' ' : '') + '{';
        lineBreak = true;
        // the '{' line is written with the depth outside the block
        flush();
        depth++;
        afterOpen = true;
        newlines = 0;
        prev = t;
        // a comment after '{' on its line stays there
        const next = toks[i + 1];
        if (next?.tokenType === Comment && next.startLine === t.startLine) {
          out[out.length - 1] += `  ${next.image.trimEnd()}`;
          i++;
          prev = next;
        }
      }
      newlines = 0;
      continue;
    }
    line += (line ? ' ' : '') + t.image;
    afterOpen = false;
    newlines = 0;
    prev = t;
  }
  flush();
  return out.join('\n') + '\n';
}
