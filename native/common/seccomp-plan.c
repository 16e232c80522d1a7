/*
 * seccomp-plan.c: a proc.seccomp step's program, compiled from its rules
 * and held to the instruction count and sha256 the plan names, as
 * executor/native-bridge/wire.ts's seccompProgram holds it: the plan was reviewed with
 * that program, so a ctc that compiles the rules to another refuses to load
 * it rather than load something nobody read.
 */
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-bpf.h"

static void sha256_hex_of(const unsigned char *p, size_t len, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
  uint8_t digest[SHA256_DIGEST_SIZE];
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len, p);
  sha256_digest(&ctx, sizeof digest, digest);
  for (size_t i = 0; i < sizeof digest; i++)
    snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

unsigned char *seccomp_step_program(const struct seccomp_text *t, long long size, const char *sha256_hex, size_t *len, char *err,
                                    size_t errlen)
{
  unsigned char *program = seccomp_compile(t, len, err, errlen);
  if (!program)
    return NULL;
  char hex[2 * SHA256_DIGEST_SIZE + 1];
  sha256_hex_of(program, *len, hex);
  if ((long long)(*len / 8) == size && !strcmp(hex, sha256_hex))
    return program;
  snprintf(err, errlen,
           "the seccomp rules compile to a program other than the one the plan names (%zu instructions, sha256 %s; the plan says "
           "%lld, %s)",
           *len / 8, hex, size, sha256_hex);
  free(program);
  return NULL;
}
