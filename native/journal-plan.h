/*
 * journal-plan.h: what the two files of the journal check share: the
 * container a journal is checked against (struct ctx: its plan's steps and
 * its state.json, read by journal-plan.c) and the small helpers. Not for
 * other files: journal-check.h is the check's interface.
 */
#ifndef CTC_JOURNAL_PLAN_H
#define CTC_JOURNAL_PLAN_H

#include <stddef.h>

struct list {
  char **v;
  size_t n;
};

struct hook {
  char *when, *path;
  struct list args, env;
  long long timeout;
};

struct ctx {
  const char *root, *id;
  char *dir;  /* <root>/<id>, as path.join writes it */
  char *plan; /* the plan file's text */
  size_t plan_len;
  struct list cgroups, cgroup_tails, bridges, ipam_dirs, veths, tables, mounts;
  int mounts_read;
  struct hook *hooks;
  size_t nhooks;
  int has_state;
  long long pid, start;
  char reason[4096]; /* why the journal is refused */
};

/* adds s (taken over) to l */
void list_add(struct list *l, char *s);
int list_has(const struct list *l, const char *s);
void list_free(struct list *l);
/* fd's whole content, NUL-terminated (*len without it); NULL with errno */
char *read_fd(int fd, size_t *len);
/* the hex sha256 of data, malloc'd */
char *sha256_hex(const void *data, size_t len);
/* path.posix.normalize, as path.join leaves what it joins; malloc'd */
char *normalize(const char *path);
/* a `..` component: a path that may climb out through a symlink, whatever its text says */
int climbs(const char *path);

/* The steps whose undo a journal may hold, from c->plan; -1 if one does not read. */
int read_plan(struct ctx *c);
/* state.json: the init's pid and start time, and where a relative cgroup went */
void read_state(struct ctx *c);
/* the cgroup file systems' mount points (cgroup.restore names files in them), read once */
void read_mounts(struct ctx *c);
void ctx_free(struct ctx *c);

#endif
