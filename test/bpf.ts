// A classic BPF interpreter for the tests: runs a seccomp program over a
// struct seccomp_data the way the kernel does, after checking it the way the
// kernel's loader does (seccomp_check_filter, bpf_check_classic), so a
// program that passes here is one the kernel would take and run alike.
// It knows every instruction seccomp allows, not only those ctc emits, so a
// wrong opcode in ctc's output shows up as a refusal, not as a silent match.

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** six 64-bit arguments; missing ones are 0 */
  args?: readonly (bigint | number)[];
}

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const SIZEOF_SECCOMP_DATA = 64;
const BPF_MAXINSNS = 4096;

export function decode(program: Buffer): Insn[] {
  if (program.length % 8 !== 0) throw new Error(`a program is whole 8-byte instructions, not ${program.length} bytes`);
  const out: Insn[] = [];
  for (let i = 0; i < program.length; i += 8) {
    out.push({ code: program.readUInt16LE(i), jt: program.readUInt8(i + 2), jf: program.readUInt8(i + 3), k: program.readUInt32LE(i + 4) });
  }
  return out;
}

// class
const LD = 0x00,
  LDX = 0x01,
  ST = 0x02,
  STX = 0x03,
  ALU = 0x04,
  JMP = 0x05,
  RET = 0x06,
  MISC = 0x07;
// ld size and mode
const W = 0x00,
  IMM = 0x00,
  ABS = 0x20,
  MEM = 0x60,
  LEN = 0x80;
// alu and jmp ops
const ADD = 0x00,
  SUB = 0x10,
  MUL = 0x20,
  DIV = 0x30,
  OR = 0x40,
  AND = 0x50,
  LSH = 0x60,
  RSH = 0x70,
  NEG = 0x80,
  MOD = 0x90,
  XOR = 0xa0;
const JA = 0x00,
  JEQ = 0x10,
  JGT = 0x20,
  JGE = 0x30,
  JSET = 0x40;
const K = 0x00,
  X = 0x08,
  A = 0x10;
const TAX = 0x00,
  TXA = 0x80;

/** The instructions seccomp accepts (kernel/seccomp.c: seccomp_check_filter). */
const allowed = new Set([
  LD | W | ABS,
  LD | W | LEN,
  LD | IMM,
  LDX | IMM,
  LDX | W | LEN,
  LD | MEM,
  LDX | MEM,
  ST,
  STX,
  ...[ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR].flatMap((op) => [ALU | op | K, ALU | op | X]),
  ALU | NEG,
  JMP | JA,
  ...[JEQ, JGT, JGE, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]),
  RET | K,
  RET | A,
  MISC | TAX,
  MISC | TXA,
]);

/** Throws what the kernel's loader would refuse: EINVAL for a program it cannot verify. */
export function verify(program: Buffer): Insn[] {
  const code = decode(program);
  if (code.length === 0 || code.length > BPF_MAXINSNS) throw new Error(`a program has 1..${BPF_MAXINSNS} instructions, not ${code.length}`);
  code.forEach((ins, pc) => {
    if (!allowed.has(ins.code)) throw new Error(`${pc}: opcode 0x${ins.code.toString(16)} is not allowed in seccomp`);
    if (ins.code === (LD | W | ABS) && (ins.k % 4 !== 0 || ins.k >= SIZEOF_SECCOMP_DATA))
      throw new Error(`${pc}: ld [${ins.k}] is outside seccomp_data or unaligned`);
    if ((ins.code & 0x07) === JMP) {
      const targets = (ins.code & 0xf0) === JA ? [pc + 1 + ins.k] : [pc + 1 + ins.jt, pc + 1 + ins.jf];
      for (const t of targets) if (t >= code.length) throw new Error(`${pc}: jumps out of the program (to ${t})`);
    }
    if ((ins.code === (LD | MEM) || ins.code === (LDX | MEM) || ins.code === ST || ins.code === STX) && ins.k >= 16)
      throw new Error(`${pc}: scratch memory index ${ins.k}`);
  });
  const last = code[code.length - 1].code & 0x07;
  if (last !== RET) throw new Error('the last instruction must be a return');
  return code;
}

function dataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(SIZEOF_SECCOMP_DATA);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), 16 + 8 * i);
  return b;
}

/** The program's 32-bit verdict for one syscall. */
export function run(program: Buffer, d: SeccompData): number {
  const code = verify(program);
  const data = dataBytes(d);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < code.length; pc++) {
    const { code: c, jt, jf, k } = code[pc];
    const src = (c & X) === X ? x : k;
    switch (c & 0x07) {
      case LD:
        if (c === (LD | W | ABS)) a = data.readUInt32LE(k);
        else if (c === (LD | W | LEN)) a = SIZEOF_SECCOMP_DATA;
        else if (c === (LD | IMM)) a = k;
        else a = mem[k];
        break;
      case LDX:
        x = c === (LDX | W | LEN) ? SIZEOF_SECCOMP_DATA : c === (LDX | IMM) ? k : mem[k];
        break;
      case ST:
        mem[k] = a;
        break;
      case STX:
        mem[k] = x;
        break;
      case ALU:
        a = alu(c & 0xf0, a, src);
        break;
      case JMP: {
        const op = c & 0xf0;
        if (op === JA) {
          pc += k;
          break;
        }
        const yes = op === JEQ ? a === src : op === JGT ? a > src : op === JGE ? a >= src : (a & src) !== 0;
        pc += yes ? jt : jf;
        break;
      }
      case RET:
        return (c & 0x18) === A ? a : k;
      case MISC:
        if ((c & 0xf8) === TAX) x = a;
        else a = x;
        break;
    }
    a >>>= 0;
    x >>>= 0;
  }
  throw new Error('ran off the end of the program');
}

function alu(op: number, a: number, v: number): number {
  switch (op) {
    case ADD:
      return (a + v) >>> 0;
    case SUB:
      return (a - v) >>> 0;
    case MUL:
      return Math.imul(a, v) >>> 0;
    case DIV:
      return v === 0 ? 0 : Math.floor(a / v) >>> 0;
    case MOD:
      return v === 0 ? a : a % v;
    case OR:
      return (a | v) >>> 0;
    case AND:
      return (a & v) >>> 0;
    case XOR:
      return (a ^ v) >>> 0;
    case LSH:
      return (a << (v & 31)) >>> 0;
    case RSH:
      return a >>> (v & 31);
    case NEG:
      return -a >>> 0;
  }
  throw new Error(`alu op 0x${op.toString(16)}`);
}

/** One line per instruction, for failure messages. */
export function disassemble(program: Buffer): string[] {
  const names: Record<number, string> = { [JEQ]: 'jeq', [JGT]: 'jgt', [JGE]: 'jge', [JSET]: 'jset' };
  return decode(program).map(({ code, jt, jf, k }, pc) => {
    const hex = `0x${k.toString(16)}`;
    if (code === (LD | W | ABS)) return `${pc}: ld [${k}]`;
    if (code === (ALU | AND | K)) return `${pc}: and ${hex}`;
    if (code === (RET | K)) return `${pc}: ret ${hex}`;
    if (code === (JMP | JA)) return `${pc}: ja ${pc + 1 + k}`;
    if ((code & 0x07) === JMP) return `${pc}: ${names[code & 0xf0]} ${hex} ? ${pc + 1 + jt} : ${pc + 1 + jf}`;
    return `${pc}: op 0x${code.toString(16)} ${jt} ${jf} ${hex}`;
  });
}
