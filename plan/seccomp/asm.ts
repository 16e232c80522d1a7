// A classic BPF assembler for the instructions seccomp filters use, with
// labels. The kernel's struct sock_filter is { u16 code; u8 jt; u8 jf; u32 k },
// 8 bytes, and a program holds at most BPF_MAXINSNS (4096) of them. Jumps
// only go forward. A conditional jump's offsets are 8-bit, so one whose target
// is more than 255 instructions on goes through a trampoline: an unconditional
// BPF_JA (32-bit offset) placed right after it. Placing trampolines moves
// later code, which can push other jumps out of range, so the layout is
// repeated until nothing changes (it only ever grows, so it ends).

export const BPF_MAXINSNS = 4096;

/** Opcodes (linux/bpf_common.h): class | size/op | source. */
export const op = {
  ldAbs: 0x20, // BPF_LD | BPF_W | BPF_ABS: A = *(u32 *)(data + k)
  and: 0x54, // BPF_ALU | BPF_AND | BPF_K: A &= k
  ja: 0x05, // BPF_JMP | BPF_JA: pc += k
  jeq: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  jgt: 0x25, // BPF_JMP | BPF_JGT | BPF_K (unsigned)
  jge: 0x35, // BPF_JMP | BPF_JGE | BPF_K (unsigned)
  jset: 0x45, // BPF_JMP | BPF_JSET | BPF_K: A & k != 0
  ret: 0x06, // BPF_RET | BPF_K
} as const;

export type Cond = 'jeq' | 'jgt' | 'jge' | 'jset';
export type Label = { readonly label: number };

export type Ins =
  | { readonly kind: 'ld'; readonly k: number }
  | { readonly kind: 'and'; readonly k: number }
  | { readonly kind: 'ret'; readonly k: number }
  | { readonly kind: 'ja'; readonly to: Label }
  | { readonly kind: Cond; readonly k: number; readonly t: Label; readonly f: Label }
  | { readonly kind: 'at'; readonly label: Label };

/** Builds a program: instructions and the labels they jump to. */
export class Asm {
  readonly code: Ins[] = [];
  private next = 0;

  label(): Label {
    return { label: this.next++ };
  }
  at(label: Label): void {
    this.code.push({ kind: 'at', label });
  }
  ld(k: number): void {
    this.code.push({ kind: 'ld', k });
  }
  and(k: number): void {
    this.code.push({ kind: 'and', k });
  }
  ret(k: number): void {
    this.code.push({ kind: 'ret', k });
  }
  ja(to: Label): void {
    this.code.push({ kind: 'ja', to });
  }
  jump(kind: Cond, k: number, t: Label, f: Label): void {
    this.code.push({ kind, k, t, f });
  }
}

interface Far {
  t: boolean;
  f: boolean;
}

/** The program as struct sock_filter bytes, little-endian. */
export function assemble(code: readonly Ins[]): Buffer {
  const far = new Map<number, Far>(); // index in code → which targets need a trampoline
  for (;;) {
    const { pos, labels } = layout(code, far);
    let grew = false;
    code.forEach((ins, i) => {
      if (ins.kind !== 'jeq' && ins.kind !== 'jgt' && ins.kind !== 'jge' && ins.kind !== 'jset') return;
      const f = far.get(i) ?? { t: false, f: false };
      const reach = (to: Label) => target(labels, to) - pos[i] - 1;
      if (!f.t && reach(ins.t) > 255) (f.t = true), (grew = true);
      if (!f.f && reach(ins.f) > 255) (f.f = true), (grew = true);
      far.set(i, f);
    });
    if (!grew) return encode(code, far, pos, labels);
  }
}

function layout(code: readonly Ins[], far: Map<number, Far>): { pos: number[]; labels: Map<number, number> } {
  const pos: number[] = [];
  const labels = new Map<number, number>();
  let pc = 0;
  code.forEach((ins, i) => {
    pos.push(pc);
    if (ins.kind === 'at') labels.set(ins.label.label, pc);
    else pc += 1 + (far.get(i)?.t ? 1 : 0) + (far.get(i)?.f ? 1 : 0);
  });
  return { pos, labels };
}

function target(labels: Map<number, number>, to: Label): number {
  const at = labels.get(to.label);
  if (at === undefined) throw new Error(`bpf: label ${to.label} is never placed`);
  return at;
}

function encode(code: readonly Ins[], far: Map<number, Far>, pos: number[], labels: Map<number, number>): Buffer {
  const out: [number, number, number, number][] = [];
  const forward = (from: number, to: Label, max: number) => {
    const d = target(labels, to) - from - 1;
    if (d < 0 || d > max) throw new Error(`bpf: a jump from ${from} to ${target(labels, to)} cannot be encoded`);
    return d;
  };
  code.forEach((ins, i) => {
    const pc = pos[i];
    switch (ins.kind) {
      case 'at':
        return;
      case 'ld':
        return void out.push([op.ldAbs, 0, 0, ins.k]);
      case 'and':
        return void out.push([op.and, 0, 0, ins.k]);
      case 'ret':
        return void out.push([op.ret, 0, 0, ins.k]);
      case 'ja':
        return void out.push([op.ja, 0, 0, forward(pc, ins.to, 0xffffffff)]);
      default: {
        const f = far.get(i) ?? { t: false, f: false };
        // [jump] [ja t]? [ja f]?: a far target is reached through its trampoline.
        const jt = f.t ? 0 : forward(pc, ins.t, 255);
        const jf = f.f ? (f.t ? 1 : 0) : forward(pc, ins.f, 255);
        out.push([op[ins.kind], jt, jf, ins.k]);
        if (f.t) out.push([op.ja, 0, 0, forward(pc + 1, ins.t, 0xffffffff)]);
        if (f.f) out.push([op.ja, 0, 0, forward(pc + (f.t ? 2 : 1), ins.f, 0xffffffff)]);
      }
    }
  });
  const buf = Buffer.alloc(out.length * 8);
  out.forEach(([code_, jt, jf, k], i) => {
    buf.writeUInt16LE(code_, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}
