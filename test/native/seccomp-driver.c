/*
 * seccomp-driver.c: native/common/seccomp-bpf.h as a filter, for
 * test/unit/seccomp-native.test.ts. Reads policies from stdin, one line a
 * field and "end" after each:
 *
 *   default errno:1
 *   arch x86_64
 *   flag log
 *   rule allow read write
 *   end
 *
 * and prints a line for each: "ok FLAGS SIZE SHA256 HEX" or "error REASON".
 */
#define _GNU_SOURCE
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../native/common/seccomp-bpf.h"

struct words {
  char **v;
  size_t n;
};

static void add(struct words *w, const char *s)
{
  w->v = realloc(w->v, (w->n + 1) * sizeof *w->v);
  if (!w->v || !(w->v[w->n++] = strdup(s)))
    abort();
}

static void clear(struct words *w)
{
  for (size_t i = 0; i < w->n; i++)
    free(w->v[i]);
  free(w->v);
  *w = (struct words){0};
}

static void run(const char *def, struct words *arches, struct words *flags, struct words *rules)
{
  struct seccomp_text t = {def, (const char *const *)arches->v, arches->n, (const char *const *)flags->v, flags->n,
                           (const char *const *)rules->v, rules->n};
  char err[512] = "";
  size_t len = 0;
  int64_t bits = seccomp_flag_bits(&t, err, sizeof err);
  unsigned char *prog = bits < 0 ? NULL : seccomp_compile(&t, &len, err, sizeof err);
  if (!prog) {
    printf("error %s\n", err);
    return;
  }
  uint8_t digest[SHA256_DIGEST_SIZE];
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len, prog);
  sha256_digest(&ctx, sizeof digest, digest);
  printf("ok %lld %zu ", (long long)bits, len / 8);
  for (size_t i = 0; i < sizeof digest; i++)
    printf("%02x", digest[i]);
  putchar(' ');
  for (size_t i = 0; i < len; i++)
    printf("%02x", prog[i]);
  putchar('\n');
  free(prog);
}

int main(void)
{
  char *line = NULL, *def = strdup("allow");
  size_t cap = 0;
  ssize_t n;
  struct words arches = {0}, flags = {0}, rules = {0};
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n')
      line[n - 1] = '\0';
    char *sp = strchr(line, ' ');
    const char *value = sp ? sp + 1 : "";
    if (sp)
      *sp = '\0';
    if (!strcmp(line, "default"))
      free(def), def = strdup(value);
    else if (!strcmp(line, "arch"))
      add(&arches, value);
    else if (!strcmp(line, "flag"))
      add(&flags, value);
    else if (!strcmp(line, "rule"))
      add(&rules, value);
    else if (!strcmp(line, "end")) {
      run(def, &arches, &flags, &rules);
      clear(&arches), clear(&flags), clear(&rules);
    } else {
      fprintf(stderr, "seccomp-driver: a line '%s'\n", line);
      return 2;
    }
  }
  free(line);
  free(def);
  return 0;
}
