// cgroup v2 has no devices.allow/deny: device rules become an eBPF program
// (BPF_PROG_TYPE_CGROUP_DEVICE) that ctc-init loads and attaches. The
// program reproduces the v1 semantics of the same rule list, so a plan
// means the same on either layout: a rule for every device ('a') sets the
// default and drops the exceptions before it; other rules are exceptions,
// and among those the last one that matches a device decides.

import { helperMode } from '../../native-bridge/helper.ts';

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }:
// access_type is (access << 16) | type.
const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACCESS: Record<string, number> = { m: 1, r: 2, w: 4 };

interface Rule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: number;
}

/** 'allow c 1:3 rwm' → a rule. */
export function parseRule(text: string): Rule {
  const m = /^(allow|deny) ([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(text) ?? /^(allow|deny) (a) (\*):(\*) ([rwm]+)$/.exec(text);
  if (!m) throw new Error(`not a device rule: '${text}'`);
  const num = (x: string) => (x === '*' ? '*' : Number(x));
  const access = [...m[5]].reduce((a, c) => a | ACCESS[c], 0);
  return { allow: m[1] === 'allow', type: m[2] as Rule['type'], major: num(m[3]), minor: num(m[4]), access };
}

/** v1's reading of a rule list: the default, and the exceptions after the last 'a' rule. */
export function effectiveRules(rules: Rule[]): { allowByDefault: boolean; exceptions: Rule[] } {
  let allowByDefault = true; // a new v1 cgroup starts from its parent's, which here allows all
  let exceptions: Rule[] = [];
  for (const r of rules) {
    if (r.type === 'a') {
      allowByDefault = r.allow;
      exceptions = [];
    } else exceptions.push(r);
  }
  return { allowByDefault, exceptions };
}

// eBPF instruction encoding: code, dst/src registers, offset, immediate.
const LDX_W = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_X = 0xbc;
const ALU64_MOV_K = 0xb7;
const JNE_K = 0x55;
const EXIT = 0x95;

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

function encode(insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, dst, src, off, imm], i) => {
    b.writeUInt8(code, i * 8);
    b.writeUInt8((src << 4) | dst, i * 8 + 1);
    b.writeInt16LE(off, i * 8 + 2);
    b.writeInt32LE(imm, i * 8 + 4);
  });
  return b;
}

/** One exception: fall through to its verdict only if the device matches, else skip to the next. */
function ruleBlock(r: Rule): Insn[] {
  const tests: Insn[][] = [];
  if (r.type !== 'a') tests.push([[JNE_K, 2, 0, 0, r.type === 'c' ? DEV_CHAR : DEV_BLOCK]]);
  // every requested access bit must be one the rule names
  tests.push([
    [ALU32_MOV_X, 6, 3, 0, 0],
    [ALU32_AND_K, 6, 0, 0, ~r.access & 7],
    [JNE_K, 6, 0, 0, 0],
  ]);
  if (r.major !== '*') tests.push([[JNE_K, 4, 0, 0, r.major]]);
  if (r.minor !== '*') tests.push([[JNE_K, 5, 0, 0, r.minor]]);
  const verdict: Insn[] = [
    [ALU64_MOV_K, 0, 0, 0, r.allow ? 1 : 0],
    [EXIT, 0, 0, 0, 0],
  ];
  const flat = tests.flat();
  // A failed test jumps past the rest of the block (offsets count from the next instruction).
  return [
    ...flat.map((insn, i): Insn => (insn[0] === JNE_K ? [insn[0], insn[1], insn[2], flat.length - 1 - i + verdict.length, insn[4]] : insn)),
    ...verdict,
  ];
}

/** The program for a rule list ('allow c 1:3 rwm', ...). */
export function compileDeviceFilter(ruleTexts: string[]): Buffer {
  const { allowByDefault, exceptions } = effectiveRules(ruleTexts.map(parseRule));
  const prologue: Insn[] = [
    [LDX_W, 2, 1, 0, 0], // r2 = access_type
    [ALU32_AND_K, 2, 0, 0, 0xffff], // r2 = type
    [LDX_W, 3, 1, 0, 0],
    [ALU32_RSH_K, 3, 0, 0, 16], // r3 = access
    [LDX_W, 4, 1, 4, 0], // r4 = major
    [LDX_W, 5, 1, 8, 0], // r5 = minor
  ];
  const body = [...exceptions].reverse().flatMap(ruleBlock);
  const epilogue: Insn[] = [
    [ALU64_MOV_K, 0, 0, 0, allowByDefault ? 1 : 0],
    [EXIT, 0, 0, 0, 0],
  ];
  return encode([...prologue, ...body, ...epilogue]);
}

/** Loads and attaches the program to a cgroup v2 directory (through ctc-init). */
export function attachDeviceFilter(cgroupDir: string, rules: string[]): void {
  helperMode(['device-filter', cgroupDir], compileDeviceFilter(rules));
}
