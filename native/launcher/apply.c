/*
 * apply.c: run and create from a run image, as executor/run/apply.ts applies a
 * plan: host steps here, each undo journaled first; init steps by
 * ctc-init over the control socket (wire.h); state.json as the container
 * settles; in the foreground, signals forwarded and everything undone
 * after the container exits. On a failure everything is undone, then the
 * TypeScript CLI reports it (hand_over with CTC_NATIVE_FAILED=step:errno).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../wire.h"
#include "image.h"
#include "launcher.h"

/* device-filter.c */
int device_filter_attach(const char *cgroup_dir, const void *insns, size_t len);

struct run {
  const struct image *img;
  const struct run_opts *o;
  char *dir;
  struct journal j;
  int sock;
  pid_t helper;
  pid_t pid; /* the container's init */
  unsigned long long start;
  pid_t monitor;
  const char *phase;
  char created[32];
  struct arg annotations; /* state.create's, "key=value\0" each (image.h IMG_STATE) */
  struct rec failed_at;   /* the step that failed */
  int err;                /* a step's -errno after the exec (MSG_ERR), or 0 */
  int pid_file_failed;    /* the error is the pid file's */
};

static volatile sig_atomic_t interrupted, running_pid;

static void on_signal(int sig)
{
  if (running_pid > 0)
    kill((pid_t)running_pid, sig);
  else
    interrupted = sig;
}

static void forward_signals(void)
{
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  for (size_t k = 0; k < sizeof forwarded_signals / sizeof *forwarded_signals; k++)
    sigaction(forwarded_signals[k], &sa, NULL);
}

/* ---- state.json, as JSON.stringify(state, null, 2) writes it ---- */

static void iso_now(char *out, size_t size)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The value of the last "key=..." in a for the key at p (Object.fromEntries: the last one wins, at the first one's place) */
static const char *last_value(struct arg a, const char *p, size_t keylen)
{
  const char *v = p + keylen + 1;
  for (const char *q = p + strlen(p) + 1; q < a.p + a.len; q += strlen(q) + 1)
    if (!strncmp(q, p, keylen + 1))
      v = q + keylen + 1;
  return v;
}

/* state.json's "annotations", as JSON.stringify(state, null, 2) writes the object */
static void annotations_json(struct buf *b, struct arg a)
{
  size_t count = 0;
  buf_str(b, "  \"annotations\": {");
  for (const char *p = a.p; p < a.p + a.len; p += strlen(p) + 1) {
    size_t keylen = strcspn(p, "=");
    int seen = 0;
    for (const char *q = a.p; q < p && !seen; q += strlen(q) + 1)
      seen = !strncmp(q, p, keylen + 1);
    if (seen)
      continue;
    char *key = strndup(p, keylen);
    buf_str(b, count++ ? ",\n    " : "\n    ");
    buf_json(b, key);
    buf_str(b, ": ");
    buf_json(b, last_value(a, p, keylen));
    free(key);
  }
  buf_str(b, count ? "\n  },\n" : "},\n");
}

static int write_state(struct run *r)
{
  const struct rec *m = &r->img->r[0];
  char *rootfs = image_str(r->o, m->a[0]), *cgroup = image_str(r->o, m->a[1]);
  char *bundle = image_str(r->o, m->a[4]);
  struct buf b = {0};
  buf_str(&b, "{\n  \"ociVersion\": \"1.2.0\",\n  \"id\": ");
  buf_json(&b, r->o->id);
  buf_fmt(&b, ",\n  \"phase\": \"%s\",\n  \"pid\": %d,\n  \"initStartTime\": %llu,\n", r->phase, (int)r->pid, r->start);
  char st;
  unsigned long long mstart;
  if (r->monitor) {
    buf_fmt(&b, "  \"monitorPid\": %d,\n", (int)r->monitor);
    if (proc_stat(r->monitor, &st, &mstart) == 0)
      buf_fmt(&b, "  \"monitorStartTime\": %llu,\n", mstart);
  }
  buf_str(&b, "  \"bundle\": ");
  buf_json(&b, r->o->bundle ? bundle : "");
  buf_str(&b, ",\n  \"rootfs\": ");
  buf_json(&b, rootfs);
  buf_fmt(&b, ",\n  \"created\": \"%s\",\n  \"owner\": \"\",\n", r->created);
  annotations_json(&b, r->annotations);
  if (*cgroup) {
    buf_str(&b, "  \"cgroupPath\": ");
    buf_json(&b, cgroup);
    buf_str(&b, ",\n");
  }
  buf_str(&b, "  \"namespaces\": [");
  const struct arg ns = m->a[2];
  size_t count = 0;
  for (const char *p = ns.p; p < ns.p + ns.len; p += strlen(p) + 1, count++) {
    buf_str(&b, count ? ",\n    " : "\n    ");
    buf_json(&b, p);
  }
  buf_str(&b, count ? "\n  ]\n}\n" : "]\n}\n");
  char file[4200];
  snprintf(file, sizeof file, "%s/state.json", r->dir);
  int ret = write_atomic(file, b.p, b.len, 0600);
  free(rootfs), free(cgroup), free(bundle), buf_free(&b);
  return ret;
}

/* ---- host steps ---- */

static int state_create(struct run *r, const struct rec *s)
{
  r->annotations = s->a[1];
  char *dir = image_str(r->o, s->a[0]);
  struct stat st;
  if (stat(dir, &st) == 0) { /* not ours to undo: the TypeScript CLI says so */
    free(dir);
    return -EEXIST;
  }
  /* modes as state.ts stateModes: 0711 so a user-namespaced init passes through; files 0600 */
  mkdir(r->o->root, 0711); /* the root's parents exist (/run) or the next mkdir says so */
  /* mkdir is the claim on the id (state.ts claimStateDir): journaled only once it is ours */
  if (mkdir(dir, 0711) < 0) {
    int err = errno;
    free(dir);
    return -err;
  }
  int e = journal_record(&r->j, (struct undo){.kind = UNDO_STATE, .step = s->step, .path = dir});
  if (e < 0)
    return e;
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/rootfs", dir);
  if (mkdir(sub, 0755) < 0)
    return -errno;
  /* the plan first: a journal (which names it by digest) never exists without it */
  snprintf(sub, sizeof sub, "%s/plan", dir);
  const struct arg plan = r->img->r[0].a[3];
  if ((e = write_atomic(sub, plan.p, plan.len, 0600)) < 0)
    return e;
  return journal_attach(&r->j, dir, plan.p, plan.len);
}

static int cgroup_create(struct run *r, const struct rec *s)
{
  char *path = image_str(r->o, s->a[0]);
  if (cg_exists(path)) { /* another container's, a pod's: joined, never removed */
    free(path);
    return 0;
  }
  struct undo u = {.kind = UNDO_CGROUP, .step = s->step, .path = path};
  for (char *p = path + 1; (p = strchr(p, '/')); p++) {
    char *ancestor = strndup(path, (size_t)(p - path));
    if (cg_exists(ancestor)) {
      free(ancestor);
      continue;
    }
    u.parents = realloc(u.parents, sizeof *u.parents * (u.nparents + 1));
    u.parents[u.nparents++] = ancestor;
  }
  int e = journal_record(&r->j, u);
  return e < 0 ? e : cg_create(path);
}

static int host_step(struct run *r, const struct rec *s)
{
  char *a = NULL, *b = NULL;
  char v[32];
  int e = 0;
  switch (s->op) {
  case IMG_STATE: return state_create(r, s);
  case IMG_CG_CREATE: return cgroup_create(r, s);
  case IMG_NOP: return 0;
  case IMG_CG_WRITE:
    a = image_str(r->o, s->a[0]), b = image_str(r->o, s->a[1]);
    e = write_value(a, b);
    break;
  case IMG_CG_BPF:
    a = image_str(r->o, s->a[0]);
    e = -device_filter_attach(a, s->a[1].p, s->a[1].len);
    break;
  case IMG_CG_JOIN:
    a = image_str(r->o, s->a[0]);
    e = cg_join(a, r->pid);
    break;
  case IMG_OOM:
    a = image_str(r->o, s->a[0]);
    snprintf(v, sizeof v, "/proc/%d/oom_score_adj", (int)r->pid);
    e = write_value(v, a);
    break;
  default: e = -EINVAL;
  }
  free(a), free(b);
  return e;
}

/* ---- ctc-init ---- */

static int read_msg(struct run *r, struct ctc_wire_msg *m)
{
  return helper_msg(r->sock, m);
}

static int spawn_helper(struct run *r, const struct buf *program)
{
  return helper_spawn(program, &r->sock, &r->helper);
}

/* ns.clone: start ctc-init with the init program and wait for the init's pid. */
static int clone_init(struct run *r, const struct rec *s)
{
  struct buf program = {0};
  if (image_program(r->img, r->o, &program) < 0)
    return -EINVAL;
  int e = spawn_helper(r, &program);
  buf_free(&program);
  struct ctc_wire_msg m;
  if (e < 0)
    return e;
  if (read_msg(r, &m) < 0)
    return -ECHILD;
  if (m.type == CTC_MSG_ERR) {
    r->failed_at.step = m.step; /* the clone's, or a pid namespace's ns.join (M joins it first) */
    return -m.value;
  }
  if (m.type != CTC_MSG_PID)
    return -ECHILD;
  r->pid = (pid_t)m.pid;
  char st;
  if (proc_stat(r->pid, &st, &r->start) < 0)
    r->start = 0;
  if ((e = journal_record(&r->j, (struct undo){.kind = UNDO_KILL, .step = s->step, .pid = r->pid, .start = r->start})) < 0)
    return e;
  if (r->o->mode != MODE_FOREGROUND) {
    if (read_msg(r, &m) < 0 || m.type != CTC_MSG_DETACHED)
      return -ECHILD;
    if (m.value == 0)
      r->monitor = r->helper;
  }
  r->phase = "creating";
  iso_now(r->created, sizeof r->created);
  return write_state(r);
}

static int settled(struct run *r, const char *phase)
{
  r->phase = phase;
  int e = write_state(r);
  if (e || !r->o->pid_file)
    return e;
  char v[32];
  int n = snprintf(v, sizeof v, "%d", (int)r->pid);
  if ((e = write_atomic(r->o->pid_file, v, (size_t)n, 0644)) < 0)
    r->pid_file_failed = 1; /* the CLI reports it as the pid file's (CT_WRITE), not a step's */
  return e;
}

/* Runs init steps up to (not including) step until (0: to the end). */
static int run_init(struct run *r, uint32_t until)
{
  if (helper_go(r->sock, until) < 0)
    return -ECHILD;
  for (;;) {
    struct ctc_wire_msg m;
    if (read_msg(r, &m) < 0)
      return -ECHILD;
    switch (m.type) {
    case CTC_MSG_ACK: continue;
    case CTC_MSG_ERR: r->failed_at.step = m.step; return -m.value;
    case CTC_MSG_PAUSED: return 0;
    case CTC_MSG_WAITING: return settled(r, "created");
    case CTC_MSG_EXEC: running_pid = r->pid; return settled(r, "running");
    default: return -ECHILD;
    }
  }
}

static int apply(struct run *r)
{
  const struct image *img = r->img;
  size_t k = 1;
  while (k < img->n) {
    const struct rec *s = &img->r[k];
    r->failed_at = *s;
    if (interrupted)
      return -EINTR;
    if (s->op == IMG_INIT) {
      size_t j = k;
      while (j < img->n && img->r[j].op == IMG_INIT)
        j++;
      int e = run_init(r, j < img->n ? img->r[j].step : 0);
      if (e < 0)
        return e;
      k = j;
      continue;
    }
    /* A host step's records share its number: it fails (CTC_FAIL_STEP) before any of them acts. */
    if (r->o->fail_step == s->step && (k == 1 || img->r[k - 1].step != s->step))
      return -EIO;
    int e = s->op == IMG_CLONE ? clone_init(r, s) : host_step(r, s);
    if (e < 0)
      return e;
    k++;
  }
  return strcmp(r->phase ? r->phase : "", "creating") ? 0 : -EPROTO;
}

/* Waits for MSG_EXIT and for ctc-init; the container's exit code, or -1. */
static int wait_exit(struct run *r)
{
  int code = -1;
  for (;;) {
    struct ctc_wire_msg m;
    if (read_msg(r, &m) < 0)
      break;
    if (m.type == CTC_MSG_EXIT) {
      code = m.value;
      break;
    }
    if (m.type == CTC_MSG_ERR) {
      r->failed_at.step = m.step;
      r->err = -m.value;
      break;
    }
  }
  while (waitpid(r->helper, NULL, 0) < 0 && errno == EINTR)
    ;
  r->helper = 0;
  return code;
}

static void finish(struct run *r)
{
  undo_all(&r->j);
  if (r->sock >= 0)
    close(r->sock), r->sock = -1;
  if (r->helper > 0)
    while (waitpid(r->helper, NULL, 0) < 0 && errno == EINTR)
      ;
}

/*
 * Undoes everything, then lets the TypeScript CLI say what failed:
 * CTC_NATIVE_FAILED=<step>:<errno number>, or <step>:interrupted (a signal
 * before the process ran), or <step>:helper (ctc-init stopped or broke the
 * protocol).
 */
_Noreturn static void report(struct run *r, int err)
{
  int nothing_done = r->j.n == 0;
  finish(r);
  if (err == -EEXIST && nothing_done)
    hand_over(NULL); /* the state dir is another container's: the CLI says so */
  char v[64];
  int n = snprintf(v, sizeof v, "CTC_NATIVE_FAILED=%u:", r->failed_at.step);
  if (err == -EINTR && interrupted)
    snprintf(v + n, sizeof v - (size_t)n, "interrupted");
  else if (err == -ECHILD || err == -EPROTO)
    snprintf(v + n, sizeof v - (size_t)n, "helper");
  else if (r->pid_file_failed)
    snprintf(v + n, sizeof v - (size_t)n, "pid-file:%d", -err);
  else
    snprintf(v + n, sizeof v - (size_t)n, "%d", -err);
  hand_over(v);
}

int apply_image(struct image *img, const struct run_opts *o)
{
  struct run r = {.img = img, .o = o, .dir = state_dir(o), .j = {.fd = -1}, .sock = -1};
  int e = cg_load();
  if (e < 0)
    hand_over(NULL);
  if (o->mode != MODE_FOREGROUND)
    log_cap(); /* checked before anything is made */
  if (o->mode == MODE_FOREGROUND)
    forward_signals();
  if ((e = apply(&r)) < 0)
    report(&r, e);
  if (o->mode != MODE_FOREGROUND) {
    close(r.sock); /* ctc-init stays as the monitor, or the caller reaps the init */
    if (o->mode == MODE_DETACHED && o->id_generated)
      printf("%s\n", o->id);
    return 0;
  }
  int code = wait_exit(&r);
  running_pid = 0;
  if (r.err)
    report(&r, r.err);
  if (code < 0)
    report(&r, -ECHILD);
  finish(&r);
  return code;
}
