/*
 * seccomp-bpf.h: a proc.seccomp step's readable rules → the classic BPF
 * program the kernel loads, byte for byte the program plan/seccomp/bpf.ts
 * compiles (the plan names its size and sha256, and the launcher refuses a
 * plan whose rules compile to another). No libseccomp.
 */
#ifndef CTC_SECCOMP_BPF_H
#define CTC_SECCOMP_BPF_H

#include <stddef.h>
#include <stdint.h>

/* A proc.seccomp step's arguments, as the plan text holds them. */
struct seccomp_text {
  const char *default_action; /* "errno:1", "allow", "kill_process", … */
  const char *const *arches;  /* "x86_64", "aarch64" */
  size_t narches;
  const char *const *flags; /* "log", "spec_allow", … (may be 0 of them) */
  size_t nflags;
  const char *const *rules; /* one rule text each (plan/seccomp/text.ts) */
  size_t nrules;
};

/*
 * The program as struct sock_filter bytes (8 a instruction), malloc'd, its
 * length in *len; NULL with a one-line reason in err (a rule that does not
 * read, an unknown syscall or arch, a program over BPF_MAXINSNS). A name no
 * architecture has is refused here, where compileSeccomp skips it (the
 * compiler's check refused it before); the flags are seccomp_flag_bits's.
 */
unsigned char *seccomp_compile(const struct seccomp_text *t, size_t *len, char *err, size_t errlen);

/*
 * seccomp_compile's program when it is the one the step names: size
 * instructions whose sha256 is sha256_hex (lower-case), as
 * executor/native-bridge/wire.ts's seccompProgram checks; NULL with err otherwise (a plan
 * built by another version of ctc).
 */
unsigned char *seccomp_step_program(const struct seccomp_text *t, long long size, const char *sha256_hex, size_t *len, char *err,
                                    size_t errlen);

/* SECCOMP_FILTER_FLAG_* bits of t->flags; -1 with err for an unknown name. */
int64_t seccomp_flag_bits(const struct seccomp_text *t, char *err, size_t errlen);

#endif
