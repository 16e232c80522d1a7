// The .ct language's lexer and parser (chevrotain). The grammar is small on
// purpose: a file is imports and one `container` block; a block holds
// statements, one per line (or separated by `;`); a statement is `use REF`,
// `drop VALUE…`, or values — words, strings and blocks. What a word means (a
// key, a number, a name) is decided later, against the ContainerDef's shape
// (eval.ts), so the grammar never lists an option and cannot drift from the
// stdlib's types. docs/ct-grammar.html draws these rules.

import { CstParser, EOF, Lexer, createToken, type CstNode, type IToken, type TokenType } from 'chevrotain';

export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'comments' });
const Spaces = createToken({ name: 'Spaces', pattern: /[ \t\r]+/, group: Lexer.SKIPPED });
export const Sep = createToken({ name: 'Sep', pattern: /\n|;/, line_breaks: true, label: 'a new line' });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: "'}'" });
export const Str = createToken({ name: 'String', pattern: /"(?:[^"\\\n]|\\.)*"/, label: 'a string' });
/** Anything else up to a space, brace, quote, `;` or `#`: keys, numbers, names, paths, `64Mi`, `PATH=/bin`. */
export const Word = createToken({ name: 'Word', pattern: /[^\s{}";#]+/, label: 'a word' });
const keyword = (name: string) =>
  createToken({ name: name[0].toUpperCase() + name.slice(1), pattern: name, longer_alt: Word, label: `'${name}'` });
export const Container = keyword('container');
export const Import = keyword('import');
export const As = keyword('as');
export const Use = keyword('use');
export const Drop = keyword('drop');

export const keywords = ['container', 'import', 'as', 'use', 'drop'];
const allTokens = [Comment, Spaces, Sep, LCurly, RCurly, Str, Container, Import, As, Use, Drop, Word];

export const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/**
 * The parser stops after this many syntax errors: recovering from one costs
 * it a fraction of a millisecond (10,000 took seconds), and the first ones
 * are what the author needs.
 */
const MAX_ERRORS = 100;
/** Syntax errors in the parse under way: the error messages built, one each. */
let reported = 0;
const counted =
  <A extends unknown[]>(message: (...a: A) => string) =>
  (...a: A) => {
    reported++;
    return message(...a);
  };
const more = () => reported < MAX_ERRORS;

const describe = (t: IToken) =>
  t.tokenType === EOF ? 'the end of the file' : t.tokenType === Sep ? (t.image === ';' ? "';'" : 'the end of the line') : `'${t.image}'`;
const labelOf = (t: TokenType) => t.LABEL ?? t.name;

class CtParser extends CstParser {
  constructor() {
    super(allTokens, {
      recoveryEnabled: true,
      maxLookahead: 2,
      errorMessageProvider: {
        buildMismatchTokenMessage: counted(({ expected, actual }) =>
          expected === EOF ? `unexpected ${describe(actual)}` : `expected ${labelOf(expected)}, found ${describe(actual)}`,
        ),
        buildNotAllInputParsedMessage: counted(
          ({ firstRedundant }) => `unexpected ${describe(firstRedundant)}: a file holds imports and one container { … }`,
        ),
        buildNoViableAltMessage: counted(
          ({ actual, ruleName }) => `unexpected ${describe(actual[0])} in ${ruleName === 'file' ? 'the file' : `a ${ruleName}`}`,
        ),
        buildEarlyExitMessage: counted(
          ({ actual, ruleName }) => `expected a value in ${ruleName === 'drop' ? "'drop'" : `a ${ruleName}`}, found ${describe(actual[0])}`,
        ),
      },
    });
    this.performSelfAnalysis();
  }

  /** file := (import | container | stray | newline)* */
  file = this.RULE('file', () => {
    this.MANY({
      GATE: more,
      DEF: () =>
        this.OR([
          { ALT: () => this.CONSUME(Sep) },
          { ALT: () => this.SUBRULE(this.import) },
          { ALT: () => this.SUBRULE(this.container) },
          { ALT: () => this.SUBRULE(this.stray) },
        ]),
    });
  });

  /**
   * stray := (WORD | STRING | block | '}')+ — what may not stand outside the container, read
   * whole so that it is one error (with a did-you-mean for `contianer`), not
   * one per token, and what follows it is still parsed.
   */
  stray = this.RULE('stray', () => {
    this.AT_LEAST_ONE(() =>
      this.OR([
        { ALT: () => this.CONSUME(Word) },
        { ALT: () => this.CONSUME(Str) },
        { ALT: () => this.SUBRULE(this.block) },
        { ALT: () => this.CONSUME(RCurly) },
        { ALT: () => this.CONSUME(Use) },
        { ALT: () => this.CONSUME(Drop) },
        { ALT: () => this.CONSUME(As) },
      ]),
    );
  });

  /** import := 'import' STRING ('as' WORD)? */
  import = this.RULE('import', () => {
    this.CONSUME(Import);
    this.CONSUME(Str);
    this.OPTION(() => {
      this.CONSUME(As);
      this.CONSUME(Word);
    });
  });

  /** container := 'container' block */
  container = this.RULE('container', () => {
    this.CONSUME(Container);
    this.SUBRULE(this.block);
  });

  /** block := '{' (statement | newline)* '}' */
  block = this.RULE('block', () => {
    this.CONSUME(LCurly);
    this.MANY({ GATE: more, DEF: () => this.OR([{ ALT: () => this.CONSUME(Sep) }, { ALT: () => this.SUBRULE(this.statement) }]) });
    this.CONSUME(RCurly);
  });

  /** statement := use | drop | value+ use? */
  statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.use) },
      { ALT: () => this.SUBRULE(this.drop) },
      {
        ALT: () => {
          this.AT_LEAST_ONE(() => this.SUBRULE(this.value));
          this.OPTION(() => this.SUBRULE2(this.use));
        },
      },
    ]);
  });

  /** use := 'use' WORD — a preset (preset.defaultMounts) or an import's value (base.process.env) */
  use = this.RULE('use', () => {
    this.CONSUME(Use);
    this.CONSUME(Word);
  });

  /** drop := 'drop' value+ */
  drop = this.RULE('drop', () => {
    this.CONSUME(Drop);
    this.AT_LEAST_ONE(() => this.SUBRULE(this.value));
  });

  /** value := WORD | STRING | block (the words container, import and as are words here) */
  value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(Word) },
      { ALT: () => this.CONSUME(Str) },
      { ALT: () => this.SUBRULE(this.block) },
      { ALT: () => this.CONSUME(Container) },
      { ALT: () => this.CONSUME(Import) },
      { ALT: () => this.CONSUME(As) },
    ]);
  });
}

let shared: CtParser | undefined;
/** One parser per process: chevrotain's self-analysis is its cost. */
export const parser = () => (shared ??= new CtParser());

// The syntax tree the evaluator reads.

export interface Pos {
  line: number;
  col: number;
}
export type Value = { k: 'word'; text: string; at: Pos } | { k: 'string'; text: string; at: Pos } | { k: 'block'; stmts: Stmt[]; at: Pos };
export type Stmt =
  | { k: 'use'; ref: string; at: Pos; refAt: Pos }
  | { k: 'drop'; values: Value[]; at: Pos }
  | { k: 'plain'; values: Value[]; at: Pos };
export interface Ast {
  /** the first word (or brace) of each run of lines outside any block */
  strays: { text: string; at: Pos }[];
  imports: { path: string; alias?: string; at: Pos; aliasAt?: Pos }[];
  containers: { at: Pos; block: Value & { k: 'block' } }[];
}

export interface SyntaxError {
  message: string;
  at: Pos;
  /** the word that was found, for a did-you-mean */
  found?: string;
}

export interface Parsed {
  ast: Ast;
  errors: SyntaxError[];
  tokens: IToken[];
  comments: IToken[];
}

const posOf = (t: IToken): Pos => ({ line: t.startLine ?? 1, col: t.startColumn ?? 1 });

/**
 * Deeper than any ContainerDef goes (about 8). The parser, its error
 * recovery above all, recurses once per level: a few hundred levels, or a
 * hundred unclosed ones, overflow the stack.
 */
const MAX_DEPTH = 64;

/** The '{' that opens a block deeper than MAX_DEPTH, if one does. */
function tooDeep(tokens: IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === LCurly && ++depth > MAX_DEPTH) return t;
    if (t.tokenType === RCurly && depth > 0) depth--;
  }
  return undefined;
}

export function parseCt(text: string): Parsed {
  const lexed = lexer.tokenize(text);
  const errors: SyntaxError[] = lexed.errors.map((e) => ({
    message:
      text[e.offset] === '"'
        ? 'a string that does not end on its line (a \\n in a string is a new line)'
        : `unexpected character '${text[e.offset]}'`,
    at: { line: e.line ?? 1, col: e.column ?? 1 },
  }));
  const deep = tooDeep(lexed.tokens);
  if (deep) {
    errors.push({ message: `blocks nested more than ${MAX_DEPTH} deep`, at: posOf(deep) });
    return { ast: { strays: [], imports: [], containers: [] }, errors, tokens: lexed.tokens, comments: lexed.groups.comments ?? [] };
  }
  const p = parser();
  p.input = lexed.tokens;
  reported = 0;
  const cst = p.file();
  const last = lexed.tokens[lexed.tokens.length - 1];
  // Past MAX_ERRORS, the errors are the parser's way out of the file: one says where it stopped.
  for (const [i, e] of p.errors.slice(0, MAX_ERRORS + 1).entries()) {
    const t = e.token.tokenType === EOF ? undefined : e.token;
    const at = t ? posOf(t) : last ? { line: last.endLine ?? 1, col: (last.endColumn ?? 0) + 1 } : { line: 1, col: 1 };
    const message = i < MAX_ERRORS ? e.message : `more than ${MAX_ERRORS} syntax errors: the rest of the file is not read`;
    errors.push({ message, at, ...(t?.tokenType === Word ? { found: t.image } : {}) });
  }
  errors.sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col);
  return { ast: astOf(cst), errors, tokens: lexed.tokens, comments: lexed.groups.comments ?? [] };
}

// CST → AST. Recovery may leave a node without its tokens: such parts are skipped.

type Kids = Record<string, (CstNode | IToken)[] | undefined>;
const kids = (n: CstNode) => n.children as Kids;
const tok = (n: CstNode, name: string, i = 0) => kids(n)[name]?.[i] as IToken | undefined;
const nodes = (n: CstNode, name: string) => (kids(n)[name] ?? []) as CstNode[];
const ok = (t: IToken | undefined): t is IToken => t !== undefined && !Number.isNaN(t.startOffset) && t.image !== undefined;

function astOf(file: CstNode): Ast {
  const imports: Ast['imports'] = [];
  for (const i of nodes(file, 'import')) {
    const s = tok(i, 'String');
    const a = tok(i, 'Word');
    if (!ok(s)) continue;
    imports.push({ path: unquote(s.image), at: posOf(s), ...(ok(a) ? { alias: a.image, aliasAt: posOf(a) } : {}) });
  }
  const strays: Ast['strays'] = [];
  let lastLine = -2;
  for (const st of nodes(file, 'stray')) {
    const toks = ['Word', 'String', 'RCurly', 'Use', 'Drop', 'As'].flatMap((k) => kids(st)[k] ?? []) as IToken[];
    const found = [
      ...toks.filter(ok).map((t) => ({ text: t.image, at: posOf(t) })),
      ...nodes(st, 'block').map((b) => ({ text: '{', at: blockOf(b).at })),
    ];
    found.sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col);
    if (!found.length) continue;
    if (found[0].at.line > lastLine + 1) strays.push(found[0]);
    lastLine = Math.max(...found.map((f) => f.at.line), ...toks.filter(ok).map((t) => t.endLine ?? 0));
  }
  const containers = nodes(file, 'container').flatMap((c) => {
    const kw = tok(c, 'Container');
    const b = nodes(c, 'block')[0];
    return ok(kw) && b ? [{ at: posOf(kw), block: blockOf(b) }] : [];
  });
  return { strays, imports, containers };
}

function blockOf(b: CstNode): Value & { k: 'block' } {
  const open = tok(b, 'LCurly');
  const stmts = nodes(b, 'statement').flatMap((s) => {
    const st = stmtOf(s);
    return st ? [st] : [];
  });
  return {
    k: 'block',
    stmts: stmts.sort((x, y) => x.at.line - y.at.line || x.at.col - y.at.col),
    at: ok(open) ? posOf(open) : { line: 1, col: 1 },
  };
}

function useOf(u: CstNode): (Stmt & { k: 'use' }) | undefined {
  const kw = tok(u, 'Use');
  const w = tok(u, 'Word');
  return ok(kw) && ok(w) ? { k: 'use', ref: w.image, at: posOf(kw), refAt: posOf(w) } : undefined;
}

function stmtOf(s: CstNode): Stmt | undefined {
  const [u1] = nodes(s, 'use');
  const values = nodes(s, 'value').flatMap(valueOf);
  if (nodes(s, 'drop').length) {
    const d = nodes(s, 'drop')[0];
    const kw = tok(d, 'Drop');
    const vs = nodes(d, 'value').flatMap(valueOf);
    return ok(kw) && vs.length ? { k: 'drop', values: vs, at: posOf(kw) } : undefined;
  }
  if (!values.length) return u1 && useOf(u1);
  // `key use REF` is `key { use REF }`
  const trailing = u1 && useOf(u1);
  if (trailing) values.push({ k: 'block', stmts: [trailing], at: trailing.at });
  return { k: 'plain', values, at: values[0].at };
}

function valueOf(v: CstNode): Value[] {
  const [b] = nodes(v, 'block');
  if (b) return [blockOf(b)];
  const s = tok(v, 'String');
  if (ok(s)) return [{ k: 'string', text: unquote(s.image), at: posOf(s) }];
  const w = tok(v, 'Word') ?? tok(v, 'Container') ?? tok(v, 'Import') ?? tok(v, 'As');
  return ok(w) ? [{ k: 'word', text: w.image, at: posOf(w) }] : [];
}

/** Strings are JSON strings. */
export function unquote(image: string): string {
  try {
    return JSON.parse(image) as string;
  } catch {
    return image.slice(1, -1);
  }
}

/** docs/ct-grammar.html: the grammar's railroad diagrams, drawn from the parser itself. */
export async function grammarHtml(): Promise<string> {
  const { createSyntaxDiagramsCode } = await import('chevrotain');
  return createSyntaxDiagramsCode(parser().getSerializedGastProductions(), {
    resourceBase: 'https://unpkg.com/chevrotain@11.2.0/diagrams/',
  });
}
