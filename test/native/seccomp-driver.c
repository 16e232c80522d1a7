/*
 * seccomp-driver.c: native/common/seccomp-bpf.h as a filter, for
 * test/unit/seccomp-native.test.ts. Reads policies from stdin, one line a
 * field and "end" after each:
 *
 *   default errno:1
 *   arch x86_64
 *   flag log
 *   rule allow read write
 *   size 36              (size and sha256: the step's, for seccomp_step_program)
 *   sha256 17508e…
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

/* One policy as the lines gave it. */
struct policy {
  char *def;
  struct words arches, flags, rules;
  long long size;
  char *sha256; /* NULL: seccomp_compile alone */
};

static void run(const struct policy *p)
{
  struct seccomp_text t = {p->def,     (const char *const *)p->arches.v, p->arches.n, (const char *const *)p->flags.v,
                           p->flags.n, (const char *const *)p->rules.v,  p->rules.n};
  char err[1024] = "";
  size_t len = 0;
  int64_t bits = seccomp_flag_bits(&t, err, sizeof err);
  unsigned char *prog = bits < 0    ? NULL
                        : p->sha256 ? seccomp_step_program(&t, p->size, p->sha256, &len, err, sizeof err)
                                    : seccomp_compile(&t, &len, err, sizeof err);
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

static void reset(struct policy *p)
{
  free(p->def);
  free(p->sha256);
  clear(&p->arches), clear(&p->flags), clear(&p->rules);
  *p = (struct policy){.def = strdup("allow")};
}

/* One line: 0, or -1 for a key the driver does not know. */
static int line_of(struct policy *p, const char *key, const char *value)
{
  if (!strcmp(key, "default"))
    free(p->def), p->def = strdup(value);
  else if (!strcmp(key, "arch"))
    add(&p->arches, value);
  else if (!strcmp(key, "flag"))
    add(&p->flags, value);
  else if (!strcmp(key, "rule"))
    add(&p->rules, value);
  else if (!strcmp(key, "size"))
    p->size = atoll(value);
  else if (!strcmp(key, "sha256"))
    free(p->sha256), p->sha256 = strdup(value);
  else if (!strcmp(key, "end")) {
    run(p);
    reset(p);
  } else
    return -1;
  return 0;
}

int main(void)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  struct policy p = {0};
  reset(&p);
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n')
      line[n - 1] = '\0';
    char *sp = strchr(line, ' ');
    if (sp)
      *sp = '\0';
    if (line_of(&p, line, sp ? sp + 1 : "")) {
      fprintf(stderr, "seccomp-driver: a line '%s'\n", line);
      return 2;
    }
  }
  free(line);
  reset(&p);
  free(p.def);
  return 0;
}
