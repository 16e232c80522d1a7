/*
 * seccomp-parts.h: the pieces of the seccomp compiler (seccomp-bpf.h) and
 * the TypeScript each one follows: the names (seccomp-names.c, from
 * stdlib/syscalls.ts through syscalls.gen.h), the rule text
 * (seccomp-rule.c, plan/seccomp/text.ts) and the assembler (seccomp-asm.c,
 * plan/seccomp/asm.ts). Every failure is a one-line reason in err.
 */
#ifndef CTC_SECCOMP_PARTS_H
#define CTC_SECCOMP_PARTS_H

#include <stddef.h>
#include <stdint.h>

/* ---- names (seccomp-names.c) ---- */

enum seccomp_arch { ARCH_X86_64, ARCH_AARCH64 };

/* the arch named so, or -1 */
int seccomp_arch_of(const char *name);
/* the syscall's number on arch, or -1 when arch has no syscall so named */
long seccomp_syscall_nr(enum seccomp_arch arch, const char *name);
/* a syscall of some architecture (x86_64, aarch64, or a 32-bit ABI's) */
int seccomp_is_syscall(const char *name);
/* an errno by name (EPERM), or -1 */
long seccomp_errno_of(const char *name);

/* ---- rule text (seccomp-rule.c) ---- */

enum seccomp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_MASKED_EQ };

struct seccomp_cond {
  unsigned index; /* 0..5 */
  enum seccomp_op op;
  uint64_t value; /* masked_eq: the mask */
  uint64_t two;   /* masked_eq: what the masked argument must equal */
};

struct seccomp_rule {
  uint32_t value;  /* the action's SECCOMP_RET_* | data */
  char *copy;      /* the text, cut into words in place */
  char **words;    /* the action, then the syscalls */
  char **syscalls; /* words + 1: in the rule's order */
  size_t nsyscalls;
  struct seccomp_cond *conds; /* all must hold */
  size_t nconds;
};

/* "errno:1", "errno:EPERM", "allow" → its 32-bit return value; -1 with err */
int64_t seccomp_action_value(const char *text, char *err, size_t errlen);
/* one rule's text → *r (free with seccomp_rule_free); -1 with err */
int seccomp_rule_parse(const char *text, struct seccomp_rule *r, char *err, size_t errlen);
void seccomp_rule_free(struct seccomp_rule *r);

/* ---- assembler (seccomp-asm.c) ---- */

#define BPF_MAXINSNS 4096

enum asm_kind { INS_LD, INS_AND, INS_RET, INS_JA, INS_JEQ, INS_JGT, INS_JGE, INS_JSET, INS_AT };

struct asm_ins {
  enum asm_kind kind;
  uint32_t k;
  unsigned t, f; /* labels: INS_JA's target is t; INS_AT places label t */
};

struct bpf_asm {
  struct asm_ins *code;
  size_t n, cap;
  unsigned labels; /* labels handed out */
  int failed;      /* out of memory: assemble refuses */
};

unsigned asm_label(struct bpf_asm *a);
void asm_at(struct bpf_asm *a, unsigned label);
void asm_op(struct bpf_asm *a, enum asm_kind kind, uint32_t k);
void asm_ja(struct bpf_asm *a, unsigned to);
void asm_jump(struct bpf_asm *a, enum asm_kind kind, uint32_t k, unsigned t, unsigned f);
/* the program as struct sock_filter bytes, malloc'd; NULL with err */
unsigned char *asm_assemble(const struct bpf_asm *a, size_t *len, char *err, size_t errlen);
void asm_free(struct bpf_asm *a);

#endif
