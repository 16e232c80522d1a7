/*
 * image.c: finds the run image for a plan or a bundle (its key, image.h),
 * checks and reads it, and builds ctc-init's program from it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../wire.h"
#include "image.h"
#include "launcher.h"
#include "plan-image.h"

static int add_identity(struct sha256_ctx *h, const char *name, const char *file)
{
  struct stat st;
  if (stat(file, &st) < 0)
    return -1;
  char line[256];
  int n = snprintf(line, sizeof line, "%s %llu %llu\n", name, (unsigned long long)st.st_ino,
                   (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
  sha256_update(h, (size_t)n, (const uint8_t *)line);
  return 0;
}

/* The image's file name for these options (image.h), or -1. */
static int image_path(const struct run_opts *o, char *out, size_t size)
{
  size_t len;
  char *content = o->plan ? read_file(o->plan, &len) : NULL;
  char config[4096];
  if (!o->plan) {
    snprintf(config, sizeof config, "%s/config.json", o->bundle);
    content = read_file(config, &len);
  }
  if (!content)
    return -1;
  struct sha256_ctx h;
  sha256_init(&h);
  const char *head = "ctc-image 1\n";
  sha256_update(&h, strlen(head), (const uint8_t *)head);
  char helper[4096], cli[4096];
  snprintf(helper, sizeof helper, "%s/ctc-init", dist_dir());
  snprintf(cli, sizeof cli, "%s/ctc.mjs", dist_dir());
  int r = add_identity(&h, "helper", helper) | add_identity(&h, "cli", cli);
  const char *parent = getenv("CTC_CGROUP_PARENT");
  struct buf b = {0};
  buf_fmt(&b, "cgroup-parent %s\n", parent && *parent ? parent : "/ctc");
  if (o->plan)
    buf_str(&b, "plan\n");
  else
    buf_fmt(&b, "bundle %s\n", o->bundle);
  sha256_update(&h, b.len, (const uint8_t *)b.p);
  sha256_update(&h, len, (const uint8_t *)content);
  buf_free(&b);
  free(content);
  if (r)
    return -1;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_digest(&h, sizeof d, d);
  const char *dir = getenv("CTC_CACHE_DIR");
  int n = snprintf(out, size, "%s/", dir && *dir ? dir : CACHE_DIR);
  for (size_t k = 0; k < sizeof d && (size_t)n + 3 < size; k++)
    n += snprintf(out + n, size - (size_t)n, "%02x", d[k]);
  snprintf(out + n, size - (size_t)n, ".img");
  return 0;
}

static uint32_t le32(const char *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/*
 * Each record's arguments (image.h), one letter each: S = a string (one
 * NUL, at its end: the host steps hand it to the kernel as a C string, so
 * a NUL inside would name another file than the plan's), U = 8 bytes,
 * B = any bytes. An init record's wire record is checked by ctc-init.
 */
static const char *const rec_args[] = {
    [IMG_META - IMG_META] = "SSBBSU", [IMG_STATE - IMG_META] = "SB",  [IMG_CG_CREATE - IMG_META] = "S",
    [IMG_CG_WRITE - IMG_META] = "SS", [IMG_CG_BPF - IMG_META] = "SB", [IMG_CLONE - IMG_META] = "",
    [IMG_CG_JOIN - IMG_META] = "S",   [IMG_OOM - IMG_META] = "S",     [IMG_INIT - IMG_META] = "UB",
    [IMG_NOP - IMG_META] = "",
};

static int rec_ok(const struct rec *r)
{
  size_t i = (size_t)r->op - IMG_META;
  const char *sig = r->op >= IMG_META && i < sizeof rec_args / sizeof *rec_args ? rec_args[i] : NULL;
  if (!sig || strlen(sig) != r->nargs)
    return 0;
  for (size_t k = 0; sig[k]; k++) {
    const struct arg *a = &r->a[k];
    if (sig[k] == 'S' && (a->len == 0 || memchr(a->p, 0, a->len) != a->p + a->len - 1))
      return 0;
    if (sig[k] == 'U' && a->len != 8)
      return 0;
  }
  return 1;
}

/* Splits the image into records; 0, or -1 if it is malformed (then it is not used: Node runs the plan). */
static int parse(struct image *img)
{
  struct ctc_image_header h;
  if (img->len < sizeof h)
    return -1;
  memcpy(&h, img->data, sizeof h);
  if (h.magic != CTC_IMAGE_MAGIC || h.version != CTC_IMAGE_VERSION || h.body_len != img->len - sizeof h || h.nrecs == 0)
    return -1;
  img->r = calloc(h.nrecs, sizeof *img->r);
  if (!img->r)
    return -1;
  const char *p = img->data + sizeof h, *end = img->data + img->len;
  for (img->n = 0; img->n < h.nrecs; img->n++) {
    struct rec *r = &img->r[img->n];
    if (end - p < 12)
      return -1;
    uint32_t len = le32(p);
    if (len < 12 || len > (size_t)(end - p))
      return -1;
    memcpy(&r->op, p + 4, 2);
    memcpy(&r->nargs, p + 6, 2);
    r->step = le32(p + 8);
    if (r->nargs > MAX_ARGS)
      return -1;
    const char *q = p + 12, *rend = p + len;
    for (uint16_t k = 0; k < r->nargs; k++) {
      if (rend - q < 4 || le32(q) > (size_t)(rend - q - 4))
        return -1;
      r->a[k] = (struct arg){q + 4, le32(q)};
      q += 4 + r->a[k].len;
    }
    if (q != rend || !rec_ok(r))
      return -1;
    p = rend;
  }
  return p == end && img->r[0].op == IMG_META ? 0 : -1;
}

/* An image is run as it says: only one nobody else could have written is used. */
static int trusted(const char *path)
{
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  *strrchr(dir, '/') = '\0';
  struct stat st;
  for (const char *p = path;; p = dir) {
    if (stat(p, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))
      return 0;
    if (p == dir)
      return 1;
  }
}

/* The image of a plan's text (plan-image.c; text is freed); NULL if it cannot be built. */
static struct image *image_of_text(char *text, size_t len, const char *bundle)
{
  struct buf b = {0};
  struct image *img = text ? calloc(1, sizeof *img) : NULL;
  if (img && plan_image(text, len, bundle, &b) == 0) {
    img->data = b.p, img->len = b.len;
    if (parse(img) == 0)
      return free(text), img;
  }
  free(text), buf_free(&b);
  if (img)
    free(img->r);
  free(img);
  return NULL;
}

/* A plan no image is cached for: from its file. */
static struct image *image_of_plan(const char *plan)
{
  size_t len;
  char *text = read_file(plan, &len);
  return image_of_text(text, len, "");
}

/* A bundle no image is cached for: its plan from the compile server, if one runs (compile-client.c).
 * Its warnings are printed once the image is built, as the CLI prints them; with --log they are
 * the CLI's to write, and so is the run. */
static struct image *image_of_bundle(const char *bundle)
{
  char config[4200], *plan = NULL, *warnings = NULL;
  size_t len, plan_len = 0;
  snprintf(config, sizeof config, "%s/config.json", bundle);
  char *bytes = read_file(config, &len);
  int got = bytes ? compile_remote(bundle, bytes, len, &plan, &plan_len, &warnings) : -1;
  free(bytes);
  if (got < 0 || (warnings && log_given))
    return free(plan), free(warnings), NULL;
  struct image *img = image_of_text(plan, plan_len, bundle);
  if (img && warnings)
    dprintf(STDERR_FILENO, "%s", warnings);
  free(warnings);
  return img;
}

struct image *image_find(const struct run_opts *o)
{
  char path[4200];
  if (image_path(o, path, sizeof path) < 0)
    return NULL;
  /* not cached: a plan's image is built from its text, in memory (launcher.h says why it is not written) */
  if (access(path, F_OK) < 0 && errno == ENOENT)
    return o->plan ? image_of_plan(o->plan) : image_of_bundle(o->bundle);
  if (!trusted(path))
    return NULL;
  struct image *img = calloc(1, sizeof *img);
  if (!img || !(img->data = read_file(path, &img->len)) || parse(img) < 0) {
    if (img) {
      free(img->data);
      free(img->r);
    }
    free(img);
    return NULL;
  }
  /* a hit: the image was used now (image.h), so the cache's pruning keeps it longer; failing is harmless */
  const struct timespec used[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_NOW}};
  (void)utimensat(AT_FDCWD, path, used, AT_SYMLINK_NOFOLLOW);
  return img;
}

char *state_dir(const struct run_opts *o)
{
  struct buf b = {0};
  buf_fmt(&b, "%s/%s", o->root, o->id);
  return b.p;
}

/* Replaces the markers in a; appends to b. */
static void substitute(struct buf *b, const struct run_opts *o, struct arg a)
{
  for (uint32_t k = 0; k < a.len; k++) {
    if (a.p[k] == '\x01' && k + 1 < a.len && (a.p[k + 1] == 'i' || a.p[k + 1] == 's')) {
      if (a.p[k + 1] == 'i')
        buf_str(b, o->id);
      else
        buf_fmt(b, "%s/%s", o->root, o->id);
      k++;
    } else {
      buf_add(b, &a.p[k], 1);
    }
  }
}

char *image_str(const struct run_opts *o, struct arg a)
{
  struct buf b = {0};
  substitute(&b, o, a);
  if (b.len && b.p[b.len - 1] == '\0')
    return b.p;
  buf_add(&b, "", 1);
  return b.p;
}

/* One op record (wire.h) from pieces (launcher.h). */
void add_record(struct buf *b, uint16_t op, uint32_t step, const struct piece *args, uint16_t nargs)
{
  uint32_t len = 12;
  for (uint16_t k = 0; k < nargs; k++)
    len += 4 + args[k].len;
  buf_add(b, &len, 4);
  buf_add(b, &op, 2);
  buf_add(b, &nargs, 2);
  buf_add(b, &step, 4);
  for (uint16_t k = 0; k < nargs; k++) {
    buf_add(b, &args[k].len, 4);
    buf_add(b, args[k].p, args[k].len);
  }
}

static void add_str_op(struct buf *b, uint16_t op, uint32_t step, const char *s)
{
  struct piece a = {s, (uint32_t)strlen(s) + 1};
  add_record(b, op, step, &a, 1);
}

/* An IMG_INIT record's wire record, with its STR* arguments substituted. */
static int add_init(struct buf *b, const struct run_opts *o, const struct rec *r)
{
  uint64_t mask;
  if (r->nargs != 2 || r->a[0].len != 8)
    return -1;
  memcpy(&mask, r->a[0].p, 8);
  const char *p = r->a[1].p;
  uint32_t len = r->a[1].len;
  if (len < 12 || le32(p) != len)
    return -1;
  uint16_t op, nargs;
  memcpy(&op, p + 4, 2);
  memcpy(&nargs, p + 6, 2);
  if (nargs > MAX_ARGS)
    return -1;
  struct buf parts[MAX_ARGS] = {{0}};
  struct piece args[MAX_ARGS] = {{0}};
  const char *q = p + 12;
  for (uint16_t k = 0; k < nargs; k++) {
    if ((size_t)(q - p) + 4 > len || le32(q) > len - (size_t)(q - p) - 4)
      return -1;
    struct arg a = {q + 4, le32(q)};
    if (mask & (1ull << k)) {
      substitute(&parts[k], o, a);
      args[k] = (struct piece){parts[k].p, (uint32_t)parts[k].len};
    } else {
      args[k] = (struct piece){a.p, a.len};
    }
    q += 4 + a.len;
  }
  add_record(b, op, r->step, args, nargs);
  for (uint16_t k = 0; k < nargs; k++)
    buf_free(&parts[k]);
  return 0;
}

/* The program: wire.h's header, then the records in body (freed). */
static void finish_program(struct buf *out, struct buf *body, uint32_t clone_flags, uint32_t spawn, uint32_t fail, uint32_t nops)
{
  struct ctc_wire_header h = {
      .magic = CTC_WIRE_MAGIC,
      .version = CTC_WIRE_VERSION,
      .clone_flags = clone_flags,
      .spawn_step = spawn,
      .fail_step = fail,
      .nops = nops,
      .body_len = (uint32_t)body->len,
  };
  buf_add(out, &h, sizeof h);
  buf_add(out, body->p, body->len);
  buf_free(body);
}

/* fd is /dev/null (the same character device) */
static int is_devnull(int fd)
{
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 && S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev;
}

/* executor/container/log.ts: a detached container without a terminal writes its log
 * (run -d; create only where the caller gave it no stdout and stderr). */
static int logged(const struct run_opts *o, int tty)
{
  if (tty || o->console)
    return 0;
  return o->mode == MODE_DETACHED || (o->mode == MODE_CREATE && is_devnull(1) && is_devnull(2));
}

/* CTC_LOG_MAX_SIZE as log.ts's logCap reads it; one it would refuse is the CLI's to report. */
uint64_t log_cap(void)
{
  const char *v = getenv("CTC_LOG_MAX_SIZE");
  if (!v || !*v)
    return 10u << 20;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end || v[0] < '0' || v[0] > '9' || n < 65536 || n > (1ull << 53) - 1)
    hand_over(NULL);
  return n;
}

static void add_log(struct buf *body, uint32_t spawn, const char *dir)
{
  char log[4200];
  snprintf(log, sizeof log, "%s/ctr.log", dir);
  uint64_t cap = log_cap();
  struct piece a[2] = {{log, (uint32_t)strlen(log) + 1}, {&cap, 8}};
  add_record(body, CTC_OP_M_LOG, spawn, a, 2);
}

static uint16_t init_op(const struct rec *r)
{
  uint16_t op = 0;
  if (r->nargs == 2 && r->a[1].len >= 12)
    memcpy(&op, r->a[1].p + 4, 2);
  return op;
}

int image_program(const struct image *img, const struct run_opts *o, struct buf *out)
{
  uint32_t spawn = 0, first = 0, exec = 0;
  int tty = 0;
  for (size_t k = 0; k < img->n; k++) {
    const struct rec *r = &img->r[k];
    if (r->op == IMG_CLONE)
      spawn = r->step;
    if (r->op != IMG_INIT)
      continue;
    first = first ? first : r->step;
    exec = init_op(r) == CTC_OP_EXEC ? r->step : exec;
    tty |= init_op(r) == CTC_OP_PTY;
  }
  if (!spawn || !first)
    return -1;
  char *dir = state_dir(o);
  struct buf body = {0};
  uint32_t nops = 0;
  if (o->mode != MODE_FOREGROUND) {
    char exit_file[4200];
    snprintf(exit_file, sizeof exit_file, "%s/exit", dir);
    uint64_t ppid = (uint64_t)getppid();
    struct piece a[2] = {{exit_file, (uint32_t)strlen(exit_file) + 1}, {&ppid, 8}};
    add_record(&body, CTC_OP_M_DETACH, spawn, a, 2), nops++;
    if (logged(o, tty))
      add_log(&body, spawn, dir), nops++;
  } else if (tty && !o->console) {
    add_record(&body, CTC_OP_M_CONSOLE_PROXY, spawn, NULL, 0), nops++;
  }
  int before_first = 1, before_exec = 1;
  for (size_t k = 0; k < img->n; k++) {
    const struct rec *r = &img->r[k];
    if (r->op != IMG_INIT)
      continue;
    if (before_first) {
      before_first = 0;
      if (o->console)
        add_str_op(&body, CTC_OP_CONSOLE_CONNECT, r->step, o->console), nops++;
      if (o->mode == MODE_CREATE) {
        char fifo[4200];
        snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
        add_str_op(&body, CTC_OP_FIFO_OPEN, r->step, fifo), nops++;
      }
    }
    if (before_exec && r->step == exec) {
      before_exec = 0;
      if (o->mode == MODE_CREATE)
        add_record(&body, CTC_OP_WAIT_START, r->step, NULL, 0), nops++;
    }
    if (add_init(&body, o, r) < 0) {
      free(dir);
      buf_free(&body);
      return -1;
    }
    nops++;
  }
  free(dir);
  uint64_t flags;
  memcpy(&flags, img->r[0].a[5].p, 8);
  finish_program(out, &body, (uint32_t)flags, spawn, o->fail_step, nops);
  return 0;
}

/* exec.ts execSteps: the ops of the container's process steps, which confine what is exec'd too. */
static int is_process_op(uint16_t op)
{
  switch (op) {
  case CTC_OP_RLIMIT:
  case CTC_OP_UMASK:
  case CTC_OP_CAPS_BOUNDING:
  case CTC_OP_USER:
  case CTC_OP_USER_NAME:
  case CTC_OP_CAPS:
  case CTC_OP_LSM_EXEC:
  case CTC_OP_NO_NEW_PRIVS:
  case CTC_OP_CHDIR:
  case CTC_OP_SECCOMP:
  case CTC_OP_EXEC: return 1;
  }
  return 0;
}

int image_exec_program(const struct image *img, const struct run_opts *o, const struct exec_opts *e, struct buf *out)
{
  uint32_t first = 0;
  for (size_t k = 0; k < img->n && !first; k++)
    if (img->r[k].op == IMG_INIT && is_process_op(init_op(&img->r[k])))
      first = img->r[k].step;
  if (!first)
    return -1;
  uint32_t spawn = first - 1;
  struct buf body = {0};
  uint32_t nops = 0;
  uint64_t join[2] = {(uint64_t)e->pid, e->ns_flags};
  struct piece j[2] = {{&join[0], 8}, {&join[1], 8}};
  add_record(&body, CTC_OP_M_JOIN, spawn, j, 2), nops++;
  if (e->exit_file) {
    uint64_t ppid = (uint64_t)getppid();
    struct piece d[2] = {{e->exit_file, (uint32_t)strlen(e->exit_file) + 1}, {&ppid, 8}};
    add_record(&body, CTC_OP_M_DETACH, spawn, d, 2), nops++;
  }
  int r = 0;
  for (size_t k = 0; k < img->n && !r; k++) {
    const struct rec *rec = &img->r[k];
    if (rec->op != IMG_INIT || !is_process_op(init_op(rec)))
      continue;
    if (init_op(rec) != CTC_OP_EXEC) {
      r = add_init(&body, o, rec);
      nops++;
      continue;
    }
    /* proc.exec: the caller's command, the container's environment */
    struct buf inner = {0};
    if (add_init(&inner, o, rec) < 0 || inner.len < 12 + 4) {
      buf_free(&inner);
      r = -1;
      break;
    }
    const char *env = inner.p + 12 + 4 + le32(inner.p + 12);
    /* a LIST (wire.h): the count, then the strings (argv's are C strings: no NUL inside) */
    struct buf argl = {0};
    uint32_t argc = 0;
    buf_add(&argl, &argc, 4);
    for (char **a = e->argv; *a; a++, argc++)
      buf_add(&argl, *a, strlen(*a) + 1);
    memcpy(argl.p, &argc, 4);
    struct piece x[2] = {{argl.p, (uint32_t)argl.len}, {env + 4, le32(env)}};
    add_record(&body, CTC_OP_EXEC, rec->step, x, 2), nops++;
    buf_free(&argl), buf_free(&inner);
  }
  if (r < 0) {
    buf_free(&body);
    return -1;
  }
  finish_program(out, &body, 0, spawn, 0, nops);
  return 0;
}
