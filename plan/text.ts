// The plan file: canonical text, one step per line, that parses back to the
// same plan and prints back to the same bytes.
//
//   ctc-plan 1
//   source hello.ct.ts <sha256 of the source>
//   digest sha256:<sha256 of every other line of this file>
//
//   1 host state.create dir={state}  # hello.ct.ts:4:26
//   ...
//
// Arguments are name=value in the order the step table declares them. The
// digest makes an edited plan fail to load: plans are built, not written.

import { createHash } from 'node:crypto';
import { CtcError } from '../common/error.ts';
import { type ArgSpec, type ArgValue, type KindSpec, type Plan, type Step, actorOf, isStepKind, stepKinds } from './steps.ts';

const MAGIC = 'ctc-plan';
const VERSION = 1;
const BARE = /^[A-Za-z0-9_./:+,@%={}-]+$/;

export function printPlan(plan: Plan): string {
  const body = [`${MAGIC} ${VERSION}`, ...plan.sources.map((s) => `source ${s.path} ${s.sha256}`), '', ...plan.steps.map(printStep)];
  const withoutDigest = body.join('\n') + '\n';
  body.splice(1 + plan.sources.length, 0, `digest sha256:${sha256(withoutDigest)}`);
  return body.join('\n') + '\n';
}

export function printStep(step: Step): string {
  const spec = stepKinds[step.kind] as KindSpec;
  const args = spec.args
    .filter((a) => !(a.optional && isEmpty(step.args[a.name])))
    .map((a) => `${a.name}=${printValue(a, step.args[a.name])}`);
  const source = step.source ? `  # ${step.source}` : '';
  return [String(step.n), spec.actor, step.kind, ...args].join(' ') + source;
}

const isEmpty = (v: ArgValue | undefined) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function printValue(a: ArgSpec, v: ArgValue | undefined): string {
  switch (a.type) {
    case 'str':
      return typeof v === 'string' && BARE.test(v) ? v : JSON.stringify(v ?? '');
    case 'int':
      return String(v);
    case 'mode':
      return '0' + (v as number).toString(8).padStart(3, '0');
    case 'names':
    case 'ints':
      return (v as unknown[]).length ? (v as unknown[]).join(',') : '-';
    case 'strs':
      return JSON.stringify(v);
  }
}

/** Parses a plan file; refuses it if its digest does not match its text. */
export function parsePlan(text: string, file = 'plan'): Plan {
  const lines = text.split('\n');
  const syntax = (line: number, msg: string): never => {
    throw new CtcError('CT_PLAN_SYNTAX', msg, { source: `${file}:${line + 1}:1` });
  };
  // A checkout that turned line ends into CRLF would otherwise read as "plan format 1\r"
  const crlf = lines.findIndex((l) => l.endsWith('\r'));
  if (crlf >= 0) syntax(crlf, 'the plan has Windows line endings (CRLF); plans are LF only (git: mark *.plan -text in .gitattributes)');
  // A raw NUL could hide in a bare word, a name list or a comment; the printer writes none.
  const nul = lines.findIndex((l) => l.includes('\0'));
  if (nul >= 0) syntax(nul, 'a NUL byte: a plan is text, and no value in it may hold one');
  const [magic, version] = (lines[0] ?? '').split(' ');
  if (magic !== MAGIC) syntax(0, `not a ctc plan (the first line must be '${MAGIC} ${VERSION}')`);
  if (version !== String(VERSION)) {
    throw new CtcError('CT_PLAN_VERSION', `plan format ${version} is not supported (this ctc reads ${VERSION})`, { source: `${file}:1:1` });
  }
  let i = 1;
  const sources: Plan['sources'] = [];
  for (; lines[i]?.startsWith('source '); i++) {
    const [, path, hash] = lines[i].split(' ');
    if (!path || !/^[0-9a-f]{64}$/.test(hash ?? '')) syntax(i, 'a source line is `source <path> <sha256>`');
    sources.push({ path, sha256: hash });
  }
  const digestLine = i;
  const digest = /^digest sha256:([0-9a-f]{64})$/.exec(lines[i] ?? '')?.[1] ?? syntax(i, 'missing the `digest sha256:<hex>` line');
  const rest = [...lines.slice(0, digestLine), ...lines.slice(digestLine + 1)].join('\n');
  if (sha256(rest) !== digest) {
    throw new CtcError('CT_PLAN_DIGEST', `${file} does not match its digest: it was changed after it was built`, {
      source: `${file}:${digestLine + 1}:1`,
      hint: 'plans are not edited by hand; change the source and run `ctc build` again',
    });
  }
  if (lines[i + 1] !== '' || lines[lines.length - 1] !== '') syntax(i + 1, 'a blank line separates the header from the steps');
  const steps = lines.slice(i + 2, -1).map((line, k) => parseStep(line, k + 1, (msg) => syntax(i + 2 + k, msg)));
  return { version: VERSION, sources, steps };
}

function parseStep(line: string, expected: number, fail: (msg: string) => never): Step {
  const m = /^(\d+) (host|init) ([a-z]+\.[a-z-]+)(.*)$/.exec(line) ?? fail('a step line is `<n> <actor> <kind> <name=value>...`');
  const [, n, actor, kind, tail] = m;
  if (Number(n) !== expected) fail(`step ${n} is out of order (expected ${expected})`);
  if (!isStepKind(kind)) fail(`unknown step kind ${kind}`);
  if (actorOf(kind) !== actor) fail(`${kind} is a ${actorOf(kind)} step`);
  const { values, source } = tokenize(tail, fail);
  const spec = stepKinds[kind] as KindSpec;
  const args: Record<string, ArgValue> = {};
  for (const a of spec.args) {
    const raw = values.get(a.name);
    values.delete(a.name);
    if (raw === undefined) {
      if (!a.optional) fail(`${kind} needs ${a.name}=`);
      continue;
    }
    args[a.name] = parseValue(a, raw, fail);
  }
  for (const extra of values.keys()) fail(`${kind} has no argument ${extra}`);
  return { n: expected, kind, args, ...(source ? { source } : {}) };
}

function tokenize(tail: string, fail: (msg: string) => never): { values: Map<string, string>; source?: string } {
  const values = new Map<string, string>();
  let i = 0;
  while (i < tail.length) {
    if (tail[i] === ' ') {
      i++;
      continue;
    }
    if (tail[i] === '#') return { values, source: tail.slice(i + 1).trim() };
    const eq = tail.indexOf('=', i);
    if (eq < 0) fail('expected name=value');
    const name = tail.slice(i, eq);
    // the printer writes each once; read twice, which one the step means would be the parser's guess
    if (values.has(name)) fail(`${name}= is given twice`);
    const end = valueEnd(tail, eq + 1);
    values.set(name, tail.slice(eq + 1, end));
    i = end;
  }
  return { values };
}

/** Where a value starting at i ends: a JSON string or array, or a bare word. */
function valueEnd(s: string, i: number): number {
  if (s[i] !== '"' && s[i] !== '[') {
    const sp = s.indexOf(' ', i);
    return sp < 0 ? s.length : sp;
  }
  let depth = 0;
  for (let inString = false; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    if (!inString && depth === 0 && (c === '"' || c === ']')) return i + 1;
  }
  return s.length;
}

function parseValue(a: ArgSpec, raw: string, fail: (msg: string) => never): ArgValue {
  const json = <T>(): T => {
    try {
      return JSON.parse(raw) as T;
    } catch {
      return fail(`${a.name}= is not valid JSON`);
    }
  };
  // Past 2^53 a double holds another number than the one written (past 1e308, Infinity, which prints as no number).
  const exact = (digits: string) =>
    Number.isSafeInteger(Number(digits)) ? Number(digits) : fail(`${a.name}= is out of range (a plan's numbers are below 2^53)`);
  // The kernel reads C strings: a NUL would end one there (or split an argv), another value than the line shows.
  const noNul = <T extends string | string[]>(v: T): T =>
    [v].flat().some((x) => x.includes('\0'))
      ? fail(`${a.name}= holds a NUL byte (\\u0000): the kernel would end the string there, or split the list`)
      : v;
  switch (a.type) {
    case 'str':
      return noNul(raw.startsWith('"') ? json<string>() : raw);
    case 'int':
      return /^-?\d+$/.test(raw) ? exact(raw) : fail(`${a.name}= must be a whole number`);
    case 'mode':
      return /^0[0-7]{3,6}$/.test(raw) ? parseInt(raw, 8) : fail(`${a.name}= must be an octal mode like 0755`);
    case 'names':
      return raw === '-' ? [] : raw.split(',');
    case 'ints':
      return raw === '-' ? [] : raw.split(',').map((x) => (/^\d+$/.test(x) ? exact(x) : fail(`${a.name}= must be whole numbers`)));
    case 'strs': {
      const v = json<unknown>();
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? noNul(v) : fail(`${a.name}= must be a JSON list of strings`);
    }
  }
}
