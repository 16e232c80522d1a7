// Hostile input (issue 12): the three parsers of untrusted text — the plan
// file, the OCI runtime config, the .ct language — fed mutants of real inputs
// made by a seeded PRNG. Each input must parse, or be refused with a CtcError
// (CtcErrors), within a time bound: never a TypeError, a RangeError, a stack
// trace or a hang. The mutants are deterministic, so a failure names its
// property, seed and case, and one case replays alone:
//
//   CTC_FUZZ_SEED=<seed> CTC_FUZZ_CASE=<n> node test/run.mjs unit/parser-fuzz
//
// CTC_FUZZ_CASES=<n> runs n cases per property instead (to search further).
// Inputs that once broke a parser stay below as fixed regression cases.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { CtcError, CtcErrors } from '../../common/error.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { example, root, tempDir } from '../helpers.ts';
import { resign } from '../resign.ts';

const tmp = tempDir('ctc-fuzz-');
test.after(() => tmp.remove());

const SEED = Number(process.env.CTC_FUZZ_SEED ?? 0x12c0de);
const ONLY = process.env.CTC_FUZZ_CASE === undefined ? undefined : Number(process.env.CTC_FUZZ_CASE);
const CASES = Number(process.env.CTC_FUZZ_CASES ?? 0);

// --- a seeded PRNG --------------------------------------------------------

/** mulberry32: 32 bits of state, good enough to pick mutations, and the same on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Each case has a seed of its own, so it can be replayed without the ones before it. */
const caseSeed = (property: number, n: number) => (SEED ^ Math.imul(property + 1, 0x85ebca6b) ^ Math.imul(n + 1, 0x9e3779b9)) >>> 0;

// --- the property ---------------------------------------------------------

/**
 * A hang blocks this thread, so its timers cannot report it: a watchdog
 * thread does. It names the case that stopped the heartbeat and ends the
 * run, which would otherwise wait forever without saying where.
 */
const beat = new Int32Array(new SharedArrayBuffer(12)); // [heartbeat, property, case]
let watchdog: Worker | undefined;
// armed when this file's tests start: `npm test` loads every test file into one process first
test.before(() => {
  watchdog = new Worker(
    `const { workerData: beat } = require('node:worker_threads');
   const { writeSync } = require('node:fs');
   let last = -1, still = 0;
   setInterval(() => {
     const now = Atomics.load(beat, 0);
     still = now === last ? still + 1 : 0;
     last = now;
     if (still < 20) return;
     writeSync(2, '\\nparser-fuzz: property ' + beat[1] + ' case ' + beat[2] + ' hung for 20 s (seed ${SEED})\\n');
     process.kill(process.pid, 'SIGKILL');
   }, 1000);`,
    { eval: true, workerData: beat },
  );
  watchdog.unref();
});
test.after(() => void watchdog?.terminate());

interface Case {
  /** the mutations, for the failure message */
  what: string[];
  text: string;
  /** written one byte a character, so that characters 0x80-0xff are bytes that are not UTF-8 */
  latin1?: boolean;
}

interface Property {
  id: number;
  name: string;
  cases: number;
  /** ms per case, and more per KiB of input: linear time passes, quadratic does not */
  bound: number;
  perKiB: number;
  make: (rng: Rng) => Case;
  /** resolves if the input parsed; throws what the parser threw */
  run: (c: Case) => unknown;
}

/** A refusal is a CtcError, or a list of them: anything else is a bug. */
function refusal(e: unknown): boolean {
  if (e instanceof CtcError) return true;
  return e instanceof CtcErrors && e.errors.length > 0 && e.errors.every((x) => x instanceof CtcError);
}

const show = (text: string) =>
  text.length > 400 ? `${JSON.stringify(text.slice(0, 300))} … (${text.length} chars)` : JSON.stringify(text);

/** Runs the property's cases; returns how many parsed and how many were refused. */
async function fuzz(p: Property): Promise<{ parsed: number; refused: number; ms: number }> {
  const failures: string[] = [];
  let parsed = 0;
  let refused = 0;
  const start = performance.now();
  const cases = ONLY !== undefined ? [ONLY] : Array.from({ length: CASES || p.cases }, (_, n) => n);
  for (const n of cases) {
    Atomics.add(beat, 0, 1);
    beat[1] = p.id;
    beat[2] = n;
    const c = p.make(new Rng(caseSeed(p.id, n)));
    const t0 = performance.now();
    let error: unknown;
    try {
      await p.run(c);
      parsed++;
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - t0;
    const where = `${p.name} case ${n} (CTC_FUZZ_SEED=${SEED} CTC_FUZZ_CASE=${n}): ${c.what.join(', ')}\n    input${c.latin1 ? ' (latin1)' : ''}: ${show(c.text)}`;
    if (error !== undefined && !refusal(error)) failures.push(`${where}\n    threw: ${(error as Error)?.stack ?? String(error)}`);
    else if (error !== undefined) refused++;
    const bound = p.bound + (p.perKiB * c.text.length) / 1024;
    if (ms > bound) failures.push(`${where}\n    took ${ms.toFixed(0)} ms (bound ${bound.toFixed(0)} ms)`);
    if (failures.length >= 5) break;
  }
  assert.ok(failures.length === 0, `${failures.length} failure(s):\n  ${failures.join('\n  ')}`);
  return { parsed, refused, ms: performance.now() - start };
}

const report = (name: string, r: { parsed: number; refused: number; ms: number }) =>
  console.log(
    `    ${name}: ${r.parsed + r.refused} cases (${r.parsed} parsed, ${r.refused} refused with a CtcError) in ${(r.ms / 1000).toFixed(1)} s`,
  );

// --- mutations shared by the three ----------------------------------------

// biome-ignore format: a list of characters
const ODD_CHARS = ['\0', '"', "'", '\\', '[', ']', '{', '}', '=', '#', ' ', '\n', '\r', '\t', ';', ',', ':', '-', '0', '9', 'é', '\u2028', '\ufeff', '\ud800', '😀', '\x7f', '%', '$'];

const longLine = (rng: Rng) => rng.pick(['a', '9', '"', '[', '{', ' ', '\\', 'x=']).repeat(rng.pick([1000, 10_000, 100_000]));

/** Byte-level mutations of any text. */
function mutateBytes(rng: Rng, text: string, what: string[]): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(7)) {
    case 0:
      what.push(`flip byte ${at}`);
      return text.slice(0, at) + String.fromCharCode(rng.int(256)) + text.slice(at + 1);
    case 1: {
      const c = rng.pick(ODD_CHARS);
      what.push(`insert ${JSON.stringify(c)} at ${at}`);
      return text.slice(0, at) + c + text.slice(at);
    }
    case 2: {
      const len = 1 + rng.int(8);
      what.push(`delete ${len} at ${at}`);
      return text.slice(0, at) + text.slice(at + len);
    }
    case 3:
      what.push(`truncate at ${at}`);
      return text.slice(0, at);
    case 4: {
      const s = longLine(rng);
      what.push(`insert a ${s.length}-char run of ${JSON.stringify(s[0])} at ${at}`);
      return text.slice(0, at) + s + text.slice(at);
    }
    case 5: {
      const bytes = Array.from({ length: 1 + rng.int(16) }, () => String.fromCharCode(rng.int(0x100)));
      what.push(`insert ${bytes.length} random bytes at ${at}`);
      return text.slice(0, at) + bytes.join('') + text.slice(at);
    }
    default: {
      // what an editor or a checkout does to a whole file
      const [name, change] = rng.pick<[string, (t: string) => string]>([
        ['CRLF line ends', (t) => t.replaceAll('\n', '\r\n')],
        ['a byte order mark', (t) => `\ufeff${t}`],
        ['no final newline', (t) => t.replace(/\n$/, '')],
        ['tabs for spaces', (t) => t.replaceAll('  ', '\t')],
        ['empty', () => ''],
      ]);
      what.push(name);
      return change(text);
    }
  }
}

/** Line-level mutations: delete, duplicate, swap. */
function mutateLines(rng: Rng, text: string, what: string[]): string {
  const lines = text.split('\n');
  const i = rng.int(lines.length);
  const j = rng.int(lines.length);
  switch (rng.int(3)) {
    case 0:
      what.push(`delete line ${i + 1}`);
      lines.splice(i, 1);
      break;
    case 1: {
      const n = rng.pick([1, 1, 1, 100, 10_000]);
      what.push(`duplicate line ${i + 1} at ${j + 1}${n > 1 ? ` ${n} times` : ''}`);
      lines.splice(j, 0, ...Array<string>(n).fill(lines[i]));
      break;
    }
    default:
      what.push(`swap lines ${i + 1} and ${j + 1}`);
      [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  return lines.join('\n');
}

// --- 1. plan files --------------------------------------------------------

const HUGE = ['9'.repeat(400), '99999999999999999999', '18446744073709551616', '9007199254740993', '-9223372036854775809', '1e309'];
const ODD_VALUES = [
  '',
  '-',
  '"',
  '"unterminated',
  '"\\',
  '"\\u00"',
  '"\\u0000"',
  '[',
  '[[[[[[',
  ']',
  '["a",1]',
  '[]',
  '[""]',
  '{}',
  'null',
  'true',
  '-1',
  '-0',
  '0x10',
  '1.5',
  'NaN',
  '0',
  '07777777',
  '0999',
  ',',
  ',,',
  '1,,2',
  '\0',
  'a\0b',
  '{state}',
  '{id}',
  '{ipv4:eth0}',
  '#',
  '=',
  'a=b',
  ...HUGE,
];

function mutatePlan(rng: Rng, text: string, what: string[]): string {
  const lines = text.split('\n');
  const steps = lines.map((l, i) => (/^\d+ /.test(l) ? i : -1)).filter((i) => i >= 0);
  if (!steps.length) return mutateBytes(rng, text, what);
  const i = rng.pick(steps);
  const line = lines[i];
  switch (rng.int(8)) {
    case 0:
    case 1: {
      // an argument's value
      const args = [...line.matchAll(/ ([a-z]+)=/g)];
      if (!args.length) return mutateBytes(rng, text, what);
      const m = rng.pick(args);
      const start = m.index + m[0].length;
      const end = line.indexOf(' ', start) < 0 ? line.length : line.indexOf(' ', start);
      const v = rng.chance(0.1) ? longLine(rng) : rng.pick(ODD_VALUES);
      what.push(`line ${i + 1}: ${m[1]}=${v.length > 20 ? `<${v.length} chars>` : JSON.stringify(v)}`);
      lines[i] = line.slice(0, start) + v + line.slice(end);
      break;
    }
    case 2: {
      // a word of the step: its number, actor or kind
      const words = line.split(' ');
      const k = rng.int(Math.min(3, words.length));
      // biome-ignore format: a list of words
      words[k] = rng.pick([...ODD_VALUES, 'host', 'init', 'mount.bind', 'proc.exec', 'x.y', 'constructor.x', '__proto__.a', String(rng.int(100))]);
      what.push(`line ${i + 1}: word ${k} = ${JSON.stringify(words[k].slice(0, 20))}`);
      lines[i] = words.join(' ');
      break;
    }
    case 3: {
      // biome-ignore format: a list of words
      const extra = rng.pick(['x=1', 'dst=/a', 'args=["a"]', '=', '==', 'a', '#', '  # x', '"a b"=c', 'flags=ro,ro', 'mode=0755 mode=0700']);
      what.push(`line ${i + 1}: append ${JSON.stringify(extra)}`);
      lines[i] = `${line} ${extra}`;
      break;
    }
    case 4: {
      // a header line
      const h = rng.int(Math.max(1, steps[0] ?? 1));
      // biome-ignore format: a list of header lines
      lines[h] = rng.pick(['ctc-plan 1', 'ctc-plan', 'ctc-plan 1 2', 'source', 'source a', `source a ${'f'.repeat(64)}`, 'digest sha256:', 'digest sha256:zz', '', ' ', '\0']);
      what.push(`header line ${h + 1} = ${JSON.stringify(lines[h])}`);
      break;
    }
    default:
      return rng.chance(0.5) ? mutateLines(rng, text, what) : mutateBytes(rng, text, what);
  }
  return lines.join('\n');
}

/**
 * A plan that parses prints, and that text parses and prints to itself: the
 * parser took only what the printer can say. (Not the input's bytes: an
 * optional `flags=-` is the same plan as none.)
 */
function parsesBack({ text }: Case): void {
  const printed = printPlan(parsePlan(text, 'fuzz.plan'));
  let again: string;
  try {
    again = printPlan(parsePlan(printed, 'fuzz.plan'));
  } catch (e) {
    // a refusal of the printed plan is the parser's bug, not the input's
    throw new Error(`the parsed plan does not print and parse back: ${(e as Error).message}`);
  }
  assert.fixture(again, printed, 'a parsed plan prints, and parses back to the same text');
}

let plans: string[] = [];

test('fuzz: plan files parse or are refused with a CtcError', async () => {
  plans = await Promise.all(['hello', 'limits', 'bridge'].map(async (name) => (await build(example(`${name}.ct.ts`))).text));
  const r = await fuzz({
    id: 1,
    name: 'plan',
    cases: 2000,
    bound: 200,
    perKiB: 2,
    make: (rng) => {
      const base = rng.int(plans.length);
      const what = [['hello', 'limits', 'bridge'][base]];
      let text = plans[base];
      for (let k = 1 + rng.int(3); k > 0; k--) text = mutatePlan(rng, text, what);
      // Most mutants would stop at the digest: re-sign two of three.
      if (rng.chance(0.67)) {
        text = resign(text);
        what.push('re-signed');
      }
      return { what, text };
    },
    run: parsesBack,
  });
  report('plan', r);
});

// --- 2. OCI runtime configs -----------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values with no JSON spelling of their own (deep nesting, NaN-like numbers) go in as markers, swapped for raw text after printing. */
const RAW = '@@raw@@';

const WEIRD_STRINGS = [
  '',
  ' ',
  '\0',
  'a\0b',
  '..',
  '../../../../etc',
  '/',
  '//',
  '/proc/self/fd/0',
  'relative/path',
  '{id}',
  '{state}',
  '%s%n',
  '\n',
  'bind',
  'rbind',
  'tmpfs',
  'CAP_SYS_ADMIN',
  'ALL',
  'é',
  '😀',
  '\ud800',
  '\u2028',
  '-1',
  '1.0.2-dev',
  '2.0.0',
  'x'.repeat(5000),
  '/'.repeat(5000),
];
// biome-ignore format: a list of values
const WEIRD_NUMBERS = [0, -1, 1, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, -(2 ** 63), 1e308, -1e308, 5e-324, 0o7777, 65535, 65536];
const RAW_NUMBERS = ['1e400', '-1e400', '18446744073709551615', '1' + '0'.repeat(400), '-0', '0.0000000000000000000000001', '1E2'];

function randomJson(rng: Rng, depth = 0): Json {
  switch (rng.int(depth > 2 ? 4 : 6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(WEIRD_NUMBERS);
    case 3:
      return rng.pick(WEIRD_STRINGS);
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(4) }, () => [
          rng.pick(['type', 'path', 'x', 'limit', 'names', 'action', '']),
          randomJson(rng, depth + 1),
        ]),
      );
  }
}

/** Every place in the document: a parent and a key or index in it. */
function places(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): [Json[] | Record<string, Json>, string | number][] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), places(x, out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([v, k]), places(x, out);
  return out;
}

const deep = (rng: Rng, n: number) => (rng.chance(0.5) ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n));

function mutateJson(rng: Rng, doc: Json, raws: string[], what: string[]): Json {
  const all = places(doc);
  if (!all.length) return doc;
  const [parent, key] = rng.pick(all);
  const get = () => (parent as Record<string | number, Json>)[key];
  const set = (v: Json) => ((parent as Record<string | number, Json>)[key] = v);
  const old = get();
  const where = typeof key === 'number' ? `[${key}]` : `.${key}`;
  switch (rng.int(10)) {
    case 0:
      what.push(`drop ${where}`);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1: {
      // another type
      const v = randomJson(rng);
      what.push(`${where} = ${JSON.stringify(v).slice(0, 40)}`);
      set(v);
      break;
    }
    case 2:
    case 3: {
      const v = typeof old === 'number' ? rng.pick(WEIRD_NUMBERS) : typeof old === 'boolean' ? !old : rng.pick(WEIRD_STRINGS);
      what.push(`${where} = ${JSON.stringify(v).slice(0, 40)}`);
      set(v);
      break;
    }
    case 4: {
      raws.push(rng.pick(RAW_NUMBERS));
      what.push(`${where} = ${raws[raws.length - 1].slice(0, 40)}`);
      set(`${RAW}${raws.length - 1}`);
      break;
    }
    case 5: {
      const item = Array.isArray(old) && old.length ? old[rng.int(old.length)] : old;
      // at most some 400 kB: a longer config only takes longer to read
      const n = Math.min(rng.pick([10, 100, 1000, 5000]), Math.ceil(400_000 / (JSON.stringify(item)?.length ?? 1)));
      what.push(`${where} = ${n} copies`);
      set(Array.from({ length: n }, () => structuredClone(item)));
      break;
    }
    case 6: {
      const n = rng.pick([50, 255, 256, 257, 5000, 50_000]);
      raws.push(deep(rng, n));
      what.push(`${where} = nested ${n} deep`);
      set(`${RAW}${raws.length - 1}`);
      break;
    }
    case 7: {
      // an unknown key, or one an object already has from its prototype
      const obj = old !== null && typeof old === 'object' && !Array.isArray(old) ? old : (parent as Record<string, Json>);
      if (Array.isArray(obj)) break;
      const k = rng.pick(['x-unknown', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', 'valueOf', 'length']);
      what.push(`add key ${k}`);
      Object.defineProperty(obj, k, { value: randomJson(rng), enumerable: true, writable: true, configurable: true });
      break;
    }
    case 8: {
      what.push(`${where} wrapped in a list`);
      set([old]);
      break;
    }
    default:
      what.push(`${where} = {}`);
      set({});
  }
  return doc;
}

/**
 * Fields the containerd config leaves out, grafted in at random before the
 * mutations, so that those reach every reader (and the checks behind them),
 * not only the fields of one config.
 */
// biome-ignore format: a table: a path and what is grafted there, one a line
const GRAFTS: [string, Json][] = [
  ['hostname', 'web'],
  ['domainname', 'example.org'],
  ['annotations', { 'org.example': 'x' }],
  ['process.env', ['PATH=/usr/bin:/bin', 'A=']],
  ['process.terminal', false],
  ['process.consoleSize', { height: 24, width: 80 }],
  ['process.user.additionalGids', [1, 2]],
  ['process.user.umask', 18],
  ['process.oomScoreAdj', 100],
  ['process.capabilities.ambient', ['CAP_NET_BIND_SERVICE']],
  ['process.capabilities.inheritable', []],
  ['linux.sysctl', { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1' }],
  ['linux.uidMappings', [{ containerID: 0, hostID: 100000, size: 65536 }]],
  ['linux.gidMappings', [{ containerID: 0, hostID: 100000, size: 65536 }]],
  ['linux.namespaces', ['pid', 'ipc', 'uts', 'mount', 'network', 'user'].map((type) => ({ type }))],
  ['linux.devices', [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 }]],
  ['linux.rootfsPropagation', 'rprivate'],
  ['linux.resources.memory', { limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 10, disableOOMKiller: false }],
  ['linux.resources.pids', { limit: 32 }],
  ['linux.resources.cpu', { shares: 512, quota: 50000, period: 100000, cpus: '0-1', mems: '0' }],
  ['linux.resources.blockIO', { weight: 100, weightDevice: [{ major: 8, minor: 0, weight: 200 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] }],
  ['linux.resources.hugepageLimits', [{ pageSize: '2MB', limit: 0 }]],
  ['linux.resources.unified', { 'memory.high': '67108864' }],
  [
    'linux.seccomp',
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { names: ['read', 'write', 'exit_group', 'execve'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      ],
    },
  ],
];

function graft(doc: Json, path: string, v: Json): void {
  const keys = path.split('.');
  let o = doc as Record<string, Json>;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, Json>;
  o[keys[keys.length - 1]] = structuredClone(v);
}

/** Where the OCI mutants are written, one file over and over: a build reads it synchronously. */
const ociDir = join(tmp.dir, 'oci');

test('fuzz: OCI configs build or are refused with a CtcError', async () => {
  mkdirSync(ociDir);
  const fixture = readFileSync(join(root, 'test', 'fixtures', 'oci', 'containerd', 'config.json'), 'utf8');
  const file = join(ociDir, 'config.json');
  const buildOci = async ({ text, latin1 }: Case) => {
    writeFileSync(file, text, latin1 ? 'latin1' : 'utf8');
    return build(file);
  };
  await buildOci({ what: [], text: fixture }); // warm: the first build loads the checks
  const grafted = JSON.parse(fixture) as Json;
  for (const [path, v] of GRAFTS) graft(grafted, path, v);
  await buildOci({ what: [], text: JSON.stringify(grafted) }); // the grafts themselves are a config that builds
  const r = await fuzz({
    id: 2,
    name: 'OCI config',
    cases: 800,
    bound: 1000,
    perKiB: 5, // an error every few bytes, some 50 µs each (a CtcError, its did-you-mean)
    make: (rng) => {
      const what: string[] = [];
      const raws: string[] = [];
      let doc = JSON.parse(fixture) as Json;
      const users = rng.chance(0.3); // the id mappings go with a user namespace
      for (const [path, v] of GRAFTS) if (/Mappings|namespaces/.test(path) ? users : rng.chance(0.3)) graft(doc, path, v);
      if (rng.chance(0.03)) {
        doc = randomJson(rng);
        what.push('the document replaced');
      }
      for (let k = 1 + rng.int(4); k > 0; k--) doc = mutateJson(rng, doc, raws, what);
      let text = JSON.stringify(doc, null, rng.chance(0.5) ? 2 : undefined).replace(
        new RegExp(`"${RAW}(\\d+)"`, 'g'),
        (_, i) => raws[Number(i)],
      );
      if (rng.chance(0.15)) text = mutateBytes(rng, text, what);
      return { what, text, latin1: rng.chance(0.05) };
    },
    run: buildOci,
  });
  report('OCI config', r);
});

// --- 3. .ct files ---------------------------------------------------------

const CT_WORDS = [
  'container',
  'import',
  'as',
  'use',
  'drop',
  'preset',
  'preset.hostRootfs',
  'preset.nope',
  'preset.defaultMounts.0',
  'hostname',
  'process',
  'args',
  'env',
  'resources',
  'memory.limit',
  'memory.limit.x',
  'cpu',
  'shares',
  'network',
  'interfaces',
  'mounts',
  'true',
  'false',
  '0',
  '-1',
  '0x',
  '0x7fffffffffffffffffff',
  '0b2',
  '1e9',
  '64Mi',
  '-64Mi',
  '1.5Gi',
  '99999999999999999999Gi',
  '18446744073709551616',
  '9'.repeat(400),
  '.',
  '..',
  '.a.',
  'a..b',
  '__proto__',
  'constructor',
  'toString',
  'CAP_SYS_ADMIN',
  'x'.repeat(3000),
  'preset.__proto__',
  'preset.constructor',
  'preset.hostRootfs.__proto__',
  'base.process.env',
  'base.nope',
];
const CT_PIECES = [
  '{',
  '}',
  '{ }',
  '"',
  '"unterminated',
  '"\\',
  '"\\u12"',
  '"\\q"',
  ';',
  '\n',
  '#',
  '"a\\nb"',
  'import "./app.ct"',
  'import "./missing.ct" as m',
  'import "/etc/passwd"',
  '\nimport "./base.ct" as base\n',
  'use',
  'drop',
  'use base.process',
  'sysctl { __proto__ 1 }',
  'annotations { constructor x }',
];

/** Words, strings, braces, separators, spaces and comments, as the .ct lexer cuts them (roughly). */
const ctTokens = (text: string) => text.match(/#[^\n]*|"(?:[^"\\\n]|\\.)*"?|[{};\n]|[ \t\r]+|[^\s{}";#]+/g) ?? [];

function mutateCt(rng: Rng, text: string, what: string[]): string {
  const toks = ctTokens(text);
  const i = rng.int(toks.length);
  const braces = toks.map((t, k) => (t === '{' || t === '}' ? k : -1)).filter((k) => k >= 0);
  switch (rng.int(10)) {
    case 0:
      what.push(`drop token ${i} ${JSON.stringify(toks[i]?.slice(0, 20))}`);
      toks.splice(i, 1);
      break;
    case 1:
      what.push(`duplicate token ${i} ${JSON.stringify(toks[i]?.slice(0, 20))}`);
      toks.splice(i, 0, toks[i] ?? '');
      break;
    case 2: {
      if (!braces.length) return mutateBytes(rng, text, what);
      const k = rng.pick(braces);
      what.push(`${rng.chance(0.5) ? 'drop' : 'duplicate'} brace ${k}`);
      if (what[what.length - 1].startsWith('drop')) toks.splice(k, 1);
      else toks.splice(k, 0, toks[k]);
      break;
    }
    case 3:
    case 4: {
      const w = rng.pick([...CT_WORDS, ...CT_PIECES]);
      what.push(`insert ${JSON.stringify(w.slice(0, 20))} at token ${i}`);
      toks.splice(i, 0, ' ', w, ' ');
      break;
    }
    case 5: {
      // a word replaced by a number, a name or nonsense
      const words = toks.map((t, k) => (/^[^\s{}";#]/.test(t) ? k : -1)).filter((k) => k >= 0);
      const k = rng.pick(words);
      toks[k] = rng.pick(CT_WORDS);
      what.push(`word ${k} = ${JSON.stringify(toks[k].slice(0, 20))}`);
      break;
    }
    case 6: {
      const n = rng.pick([10, 63, 64, 65, 100, 1000, 10_000]);
      const inner = rng.pick(['', 'a', 'hostname x', 'process { args a }']);
      const closed = rng.chance(0.7);
      what.push(`nest ${n} blocks${closed ? '' : ' (unclosed)'} at token ${i}`);
      toks.splice(i, 0, ` ${rng.pick(['', 'process ', 'x ', 'mounts '])}${'{ '.repeat(n)}${inner}${closed ? ' }'.repeat(n) : ''} `);
      break;
    }
    case 7: {
      const k = rng.int(toks.length);
      what.push(`swap tokens ${i} and ${k}`);
      [toks[i], toks[k]] = [toks[k], toks[i]];
      break;
    }
    case 8: {
      // many of one word: an error each, or a very long statement
      const w = rng.pick([...CT_WORDS.slice(0, 24), ...CT_PIECES]);
      const n = rng.pick([100, 1000, 10_000]);
      what.push(`insert ${n} × ${JSON.stringify(w.slice(0, 20))} at token ${i}`);
      toks.splice(i, 0, ` ${`${w} `.repeat(n)}`);
      break;
    }
    default:
      return rng.chance(0.3) ? mutateLines(rng, text, what) : mutateBytes(rng, text, what);
  }
  return toks.join('');
}

const ctDir = join(tmp.dir, 'ct');

test('fuzz: .ct files build or are refused with a CtcError', async () => {
  mkdirSync(ctDir);
  const sources = ['hello', 'limits', 'bridge', 'rootless'].map((name) => readFileSync(example(`${name}.ct`), 'utf8'));
  const file = join(ctDir, 'app.ct');
  // what `import "./base.ct" as base` reaches
  writeFileSync(join(ctDir, 'base.ct'), sources[0]);
  const buildCt = async ({ text, latin1 }: Case) => {
    writeFileSync(file, text, latin1 ? 'latin1' : 'utf8');
    return build(file);
  };
  for (const text of sources) await buildCt({ what: [], text }); // warm: chevrotain's self-analysis, the stdlib
  const based = (text: string) => `import "./base.ct" as base\n${text.replace('container {', 'container {\n  use base')}`;
  await buildCt({ what: [], text: based(sources[1]) }); // a file on a base builds
  const r = await fuzz({
    id: 3,
    name: '.ct',
    cases: 800,
    bound: 1000,
    perKiB: 5, // an error every few bytes, some 50 µs each (a CtcError, its did-you-mean)
    make: (rng) => {
      const base = rng.int(sources.length);
      const what = [['hello', 'limits', 'bridge', 'rootless'][base]];
      let text = sources[base];
      if (rng.chance(0.2)) {
        text = based(text);
        what.push('based on base.ct');
      }
      for (let k = 1 + rng.int(3); k > 0; k--) text = mutateCt(rng, text, what);
      return { what, text, latin1: rng.chance(0.05) };
    },
    run: buildCt,
  });
  report('.ct', r);
});

test.run();
