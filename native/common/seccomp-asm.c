/*
 * seccomp-asm.c: the classic BPF assembler of plan/seccomp/asm.ts, with the
 * same layout, so the same instructions give the same bytes. Jumps only go
 * forward; a conditional jump's offsets are 8-bit, so one whose target is
 * more than 255 instructions on goes through a trampoline (a BPF_JA right
 * after it). Placing trampolines moves later code, which can push other
 * jumps out of range, so the layout is repeated until nothing changes (it
 * only grows, so it ends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-parts.h"

/* opcodes (linux/bpf_common.h), by enum asm_kind */
static const uint16_t opcode[] = {
    [INS_LD] = 0x20,  /* BPF_LD | BPF_W | BPF_ABS */
    [INS_AND] = 0x54, /* BPF_ALU | BPF_AND | BPF_K */
    [INS_RET] = 0x06, /* BPF_RET | BPF_K */
    [INS_JA] = 0x05,  /* BPF_JMP | BPF_JA */
    [INS_JEQ] = 0x15, /* BPF_JMP | BPF_JEQ | BPF_K */
    [INS_JGT] = 0x25, /* unsigned */
    [INS_JGE] = 0x35, /* unsigned */
    [INS_JSET] = 0x45,
};

enum { FAR_T = 1, FAR_F = 2 }; /* which targets of a jump need a trampoline */

static const size_t UNPLACED = (size_t)-1;

static void push(struct bpf_asm *a, struct asm_ins ins)
{
  if (a->failed)
    return;
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 256;
    struct asm_ins *grown = realloc(a->code, cap * sizeof *grown);
    if (!grown) {
      a->failed = 1;
      return;
    }
    a->code = grown, a->cap = cap;
  }
  a->code[a->n++] = ins;
}

unsigned asm_label(struct bpf_asm *a)
{
  return a->labels++;
}

void asm_at(struct bpf_asm *a, unsigned label)
{
  push(a, (struct asm_ins){.kind = INS_AT, .t = label});
}

void asm_op(struct bpf_asm *a, enum asm_kind kind, uint32_t k)
{
  push(a, (struct asm_ins){.kind = kind, .k = k});
}

void asm_ja(struct bpf_asm *a, unsigned to)
{
  push(a, (struct asm_ins){.kind = INS_JA, .t = to});
}

void asm_jump(struct bpf_asm *a, enum asm_kind kind, uint32_t k, unsigned t, unsigned f)
{
  push(a, (struct asm_ins){.kind = kind, .k = k, .t = t, .f = f});
}

void asm_free(struct bpf_asm *a)
{
  free(a->code);
  *a = (struct bpf_asm){0};
}

static int conditional(enum asm_kind k)
{
  return k == INS_JEQ || k == INS_JGT || k == INS_JGE || k == INS_JSET;
}

/* Where each instruction and label lands with these trampolines; the program's length. */
static size_t layout(const struct bpf_asm *a, const uint8_t *far, size_t *pos, size_t *labels)
{
  size_t pc = 0;
  for (unsigned l = 0; l < a->labels; l++)
    labels[l] = UNPLACED;
  for (size_t i = 0; i < a->n; i++) {
    pos[i] = pc;
    if (a->code[i].kind == INS_AT)
      labels[a->code[i].t] = pc;
    else
      pc += 1 + !!(far[i] & FAR_T) + !!(far[i] & FAR_F);
  }
  return pc;
}

/* A jump's offset from the instruction at pc to label; -1 when it is unplaced or behind. */
static long long reach(const size_t *labels, size_t pc, unsigned label)
{
  return labels[label] == UNPLACED || labels[label] <= pc ? -1 : (long long)(labels[label] - pc - 1);
}

/* Marks the jumps whose targets are out of 8-bit range; whether any new one was. */
static int grow(const struct bpf_asm *a, uint8_t *far, const size_t *pos, const size_t *labels)
{
  int grew = 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct asm_ins *ins = &a->code[i];
    if (!conditional(ins->kind))
      continue;
    if (!(far[i] & FAR_T) && reach(labels, pos[i], ins->t) > 255)
      far[i] |= FAR_T, grew = 1;
    if (!(far[i] & FAR_F) && reach(labels, pos[i], ins->f) > 255)
      far[i] |= FAR_F, grew = 1;
  }
  return grew;
}

static void put(unsigned char *out, size_t *pc, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
  unsigned char *p = out + *pc * 8;
  p[0] = code & 0xff, p[1] = code >> 8, p[2] = jt, p[3] = jf;
  for (int b = 0; b < 4; b++)
    p[4 + b] = (k >> (8 * b)) & 0xff;
  (*pc)++;
}

/* [jump] [ja t]? [ja f]?: a far target is reached through its trampoline. */
static int encode_jump(unsigned char *out, size_t *pc, const struct asm_ins *ins, uint8_t far, const size_t *labels)
{
  size_t at = *pc;
  long long t = reach(labels, at, ins->t), f = reach(labels, at, ins->f);
  long long jt = far & FAR_T ? 0 : t, jf = far & FAR_F ? !!(far & FAR_T) : f;
  if (t < 0 || f < 0 || jt > 255 || jf > 255)
    return -1;
  put(out, pc, opcode[ins->kind], (uint8_t)jt, (uint8_t)jf, ins->k);
  if (far & FAR_T)
    put(out, pc, opcode[INS_JA], 0, 0, (uint32_t)reach(labels, at + 1, ins->t));
  if (far & FAR_F)
    put(out, pc, opcode[INS_JA], 0, 0, (uint32_t)reach(labels, at + (far & FAR_T ? 2 : 1), ins->f));
  return 0;
}

static int encode(const struct bpf_asm *a, const uint8_t *far, const size_t *labels, unsigned char *out)
{
  size_t pc = 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct asm_ins *ins = &a->code[i];
    if (ins->kind == INS_AT)
      continue;
    if (conditional(ins->kind)) {
      if (encode_jump(out, &pc, ins, far[i], labels))
        return -1;
    } else if (ins->kind == INS_JA) {
      long long d = reach(labels, pc, ins->t);
      if (d < 0 || d > 0xffffffffLL)
        return -1;
      put(out, &pc, opcode[INS_JA], 0, 0, (uint32_t)d);
    } else
      put(out, &pc, opcode[ins->kind], 0, 0, ins->k);
  }
  return 0;
}

unsigned char *asm_assemble(const struct bpf_asm *a, size_t *len, char *err, size_t errlen)
{
  uint8_t *far = calloc(a->n + 1, 1);
  size_t *pos = calloc(a->n + 1, sizeof *pos), *labels = calloc(a->labels + 1, sizeof *labels);
  unsigned char *out = NULL;
  if (a->failed || !far || !pos || !labels) {
    snprintf(err, errlen, "seccomp: out of memory");
    goto done;
  }
  size_t n;
  do
    n = layout(a, far, pos, labels);
  while (grow(a, far, pos, labels));
  out = malloc(n * 8 + 1);
  if (!out)
    snprintf(err, errlen, "seccomp: out of memory");
  else if (encode(a, far, labels, out)) {
    snprintf(err, errlen, "bpf: a jump cannot be encoded");
    free(out);
    out = NULL;
  } else
    *len = n * 8;
done:
  free(far);
  free(pos);
  free(labels);
  return out;
}
