// config.json as plain values plus where each one was written. jsonc-parser
// keeps every value's offset, so any part of the config can be named by its
// JSON path (`linux.namespaces[2]`) and its `config.json:line:col`.

import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { CtcError } from '../../common/error.ts';

export interface JsonDoc {
  /** the document; members whose value is null are left out, as absent (Go's encoding/json reads them so) */
  value: unknown;
  /**
   * JSON path → `file:line:col`: of its key for a member, of its start for
   * an element; '' is the document. Includes the null members.
   */
  at: Map<string, string>;
}

/** `a.b` / `a[3]`; the path of a member or element of `path`. */
export const member = (path: string, key: string) => (path ? `${path}.${key}` : key);
export const element = (path: string, i: number) => `${path}[${i}]`;

/** Parses strict JSON (no comments, no trailing commas), or throws CT_JSON at the first syntax error. */
export function parseJson(text: string, file: string): JsonDoc {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const pos = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return `${file}:${lo + 1}:${offset - lineStarts[lo] + 1}`;
  };

  const deep = tooDeep(text);
  if (deep !== undefined)
    throw new CtcError('CT_JSON', `${file} nests objects and arrays more than ${MAX_DEPTH} deep`, { source: pos(deep) });
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length || !root) {
    const e = errors[0];
    let offset = e?.offset ?? 0;
    let what = e ? (syntaxMessages[printParseErrorCode(e.error)] ?? printParseErrorCode(e.error)) : 'the file is empty';
    // The commonest hand-edit mistake gets its own message, at the comma.
    const comma = text.slice(0, offset).trimEnd().length - 1;
    if ((text[offset] === '}' || text[offset] === ']') && text[comma] === ',')
      [offset, what] = [comma, 'a trailing comma (not allowed in JSON)'];
    throw new CtcError('CT_JSON', `${file} is not valid JSON: ${what}`, { source: pos(offset) });
  }
  const at = new Map<string, string>([['', pos(root.offset)]]);
  return { value: valueOf(root, '', at, pos), at };
}

/**
 * Far deeper than any config (the seccomp rules' argument values are 6
 * deep). The JSON parser and the readers recurse once per level: a config
 * nested some thousands deep would overflow the stack (Go's encoding/json,
 * which runc uses, stops at 10000 for the same reason).
 */
const MAX_DEPTH = 256;

/** The offset of the first '{' or '[' deeper than MAX_DEPTH, if there is one. */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0, inString = false; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if ((c === '{' || c === '[') && ++depth > MAX_DEPTH) return i;
    else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}

function valueOf(node: Node, path: string, at: Map<string, string>, pos: (offset: number) => string): unknown {
  switch (node.type) {
    case 'object': {
      // No prototype: a "__proto__" key is data, not a prototype.
      const out: Record<string, unknown> = Object.create(null);
      for (const prop of node.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (!key || !value) continue;
        const p = member(path, String(key.value));
        at.set(p, pos(prop.offset));
        const v = valueOf(value, p, at, pos);
        // A repeated key: the last one counts, as in Go and JSON.parse.
        if (v === null) delete out[key.value];
        else out[key.value] = v;
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((child, i) => {
        at.set(element(path, i), pos(child.offset));
        return valueOf(child, element(path, i), at, pos);
      });
    default:
      return node.value;
  }
}

const syntaxMessages: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'expected the end of the file after the top-level value',
  InvalidCommentToken: 'comments are not JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'malformed \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'control character in a string (escape it)',
};
