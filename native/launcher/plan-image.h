/*
 * plan-image.h: the run image built in C from a plan's text, for the first
 * run of a plan (docs/design.md, "The launcher and run images"): the same
 * bytes executor/native-bridge/run-image.ts encodeImage writes after a run through Node.
 *
 *   plan-image.c     the image: placeholders, META, host records, marker masks;
 *                    the host checks of executor/run/preflight.ts
 *   plan-wire.c      an init step's wire ops (executor/native-bridge/wire.ts encoders)
 *   cgroup-writes.c  what the cgroup drivers resolve: a limit's files, the device
 *                    rules' files or filter, the cgroup mounts (executor/host/cgroups/)
 *   device-rules.c   the v2 device filter program (executor/host/cgroups/device-filter.ts)
 *
 * Every function returns -1 where the TypeScript would throw or give no
 * image: the launcher then hands the run to Node, which words any error.
 */
#ifndef CTC_PLAN_IMAGE_H
#define CTC_PLAN_IMAGE_H

#include "../common/plan-text.h"
#include "launcher.h"

/* One wire.h op of an init step, its arguments as wire.ts makes them. */
struct wire_op {
  uint16_t op, nargs;
  struct buf a[MAX_ARGS];
};
struct wire_ops {
  struct wire_op *v;
  size_t n;
};
void wire_ops_free(struct wire_ops *o);
struct wire_op *wire_op_add(struct wire_ops *o, uint16_t op);
void arg_str(struct wire_op *w, const char *s); /* S: the string and its NUL */
void arg_u64(struct wire_op *w, uint64_t v);    /* U: 8 bytes, little-endian */
void arg_blob(struct wire_op *w, const void *p, size_t n);

/* plan-wire.c: encodeStep(s, mounts) of a placeholder-filled init step */
int plan_wire_step(const struct plan_step *s, struct wire_ops *out);

/* cgroup-writes.c */
struct cg_write {
  char *file, *value;
};
struct cg_writes {
  struct cg_write *v;
  size_t n;
};
void cg_writes_free(struct cg_writes *w);
/* driver.limitWrites(path, key, value) */
int cg_limit_writes(const char *path, const char *key, const char *value, struct cg_writes *out);
/* driver.deviceWrites: 0 with files (v1, or none), 1 with a v2 filter (*dir, program), -1 */
int cg_device_writes(const char *path, char **rules, size_t n, struct cg_writes *files, char **dir, struct buf *program);
enum cg_mount_kind { CGM_TMPFS, CGM_CGROUP, CGM_CGROUP2, CGM_SYMLINK, CGM_REMOUNT_RO };
struct cg_mount {
  enum cg_mount_kind kind;
  char *sub, *data, *host;
};
/* driver.mounts(); the count, or -1 */
long cg_mounts(struct cg_mount **out);

/* device-rules.c: compileDeviceFilter(rules); 0 or -1 (a rule that does not read) */
int device_program(char **rules, size_t n, struct buf *out);

/* plan-image.c: the image of a plan for this host, as encodeImage; bundle: the run's bundle dir ("" for a
 * plan file); 0, or -1 (no image) */
int plan_image(const char *text, size_t len, const char *bundle, struct buf *out);
/* why the last plan_image() built none (for tests and CTC_DEBUG-like diagnostics) */
extern char plan_image_why[256];

#endif
