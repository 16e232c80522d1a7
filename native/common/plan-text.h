/*
 * plan-text.h: a plan file read in C exactly as plan/text.ts parsePlan reads
 * it (the header, the digest over the other lines, one step a line with its
 * arguments as bare words or JSON), and held to the executor's checks of
 * plan/validate.ts and the after-exec check of executor/run/host-limits.ts.
 *
 * Its use is the launcher's first run of a plan (native/launcher/plan-image.c):
 * a plan that does not read, fails a check, or reads in a way this reader
 * is not sure TypeScript reads the same, is refused here and handed to the
 * TypeScript CLI, which words the error. So this reader may refuse more than
 * parsePlan does, never less.
 */
#ifndef CTC_PLAN_TEXT_H
#define CTC_PLAN_TEXT_H

#include <stddef.h>

#include "tables.gen.h"

/* One argument as parsed: which fields hold it follows the spec's type. */
struct plan_arg {
  int present;
  char *s;       /* CTC_ARG_STR: the string (UTF-8, no NUL) */
  long long i;   /* CTC_ARG_INT, CTC_ARG_MODE */
  char **v;      /* CTC_ARG_NAMES, CTC_ARG_STRS: n strings */
  long long *iv; /* CTC_ARG_INTS: n numbers */
  size_t n;
};

struct plan_step {
  unsigned n; /* 1-based */
  const struct ctc_kind_spec *kind;
  struct plan_arg *a; /* one per kind->args, in its order */
};

struct plan {
  struct plan_step *steps;
  size_t n;
  char why[256]; /* why it was refused (for tests; the CLI words the real error) */
};

/* parsePlan: 0, or -1 with p->why (p needs plan_free either way). */
int plan_read(const char *text, size_t len, struct plan *p);
/* The same without the digest: the journal check holds a state dir's plan to
 * its journal's first line (the sha256 of the plan's bytes) instead. */
int plan_read_steps(const char *text, size_t len, struct plan *p);
/* validatePlanSteps and checkAfterExec: 0, or -1 with p->why. */
int plan_check(struct plan *p);
void plan_free(struct plan *p);

/* A step's argument by name (NULL if the kind has none by that name). */
const struct plan_arg *plan_arg(const struct plan_step *s, const char *name);
/* steps.ts str(): "" when absent */
const char *plan_str(const struct plan_step *s, const char *name);
/* a list (names, strs): its strings and count, 0 when absent */
size_t plan_list(const struct plan_step *s, const char *name, char ***v);
int plan_is(const struct plan_step *s, const char *kind);

/* A name's number in a generated table; 0, or -1 if the name is not in it. */
int ctc_number_of(const struct ctc_number *t, size_t n, const char *name, uint64_t *out);
#define CTC_LOOKUP(table, name, out) ctc_number_of(table, CTC_TABLE_LEN(table), name, out)

/* The five capability sets after exec (plan/after-exec.ts afterExecOf) as the
 * after-exec= text, into out; 1 if written, 0 if the plan sets no capabilities,
 * -1 if it names a capability this ctc does not know. */
int plan_after_exec(const struct plan *p, char *out, size_t size);

#endif
