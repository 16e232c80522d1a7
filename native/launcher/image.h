/*
 * image.h: the run image, the one format between executor/native-bridge/run-image.ts (which
 * writes it after a container started) and the launcher (which applies it).
 *
 * A file in the cache dir named <sha256 hex>.img, the SHA-256 of:
 *   "ctc-image 1\n"
 *   "helper <ino> <mtime ns>\n"       of dist/ctc-init
 *   "cli <ino> <mtime ns>\n"          of dist/ctc.mjs (another ctc, another key)
 *   "cgroup-parent <CTC_CGROUP_PARENT or /ctc>\n"
 * then either
 *   "plan\n" <the plan file's bytes>
 *   "bundle <resolved bundle dir>\n" <its config.json's bytes>
 *
 * Content: a header, then records laid out as wire.h's op records (u32 len,
 * u16 op, u16 nargs, u32 step, args of u32 length + bytes). A STR ends in
 * its one NUL (the launcher refuses an image with a NUL inside one, or
 * with arguments other than these: Node runs the plan then). Strings marked
 * STR* may hold the markers "\x01i" (the container id) and "\x01s" (its
 * state dir, <root>/<id>), which the launcher replaces; the plan itself
 * holds no \x01, or no image is written. Records are in plan order.
 *
 * The file's mtime is when it was last used: written (a rename, never in
 * place), or found by the launcher, which sets it on each hit. The cache is
 * kept within its bound least recently used first, by unlink
 * (executor/native-bridge/run-image-cache.ts); a run that finds no image compiles again.
 */
#ifndef CTC_IMAGE_H
#define CTC_IMAGE_H

#include <stdint.h>

#define CTC_IMAGE_MAGIC 0x49435443u /* "CTCI" */
#define CTC_IMAGE_VERSION 2u

struct ctc_image_header {
  uint32_t magic;
  uint32_t version;
  uint32_t nrecs;
  uint32_t body_len;
};

enum ctc_image_rec {
  /* STR* rootfs, STR* cgroup path ("" if none), BLOB namespaces (names, each
   * NUL-terminated; not a counted wire.h LIST), BLOB the
   * plan's text (the state dir's copy), STR bundle, U64 clone flags.
   * The first record, exactly once. */
  IMG_META = 200,
  IMG_STATE = 201,     /* STR* dir, BLOB annotations ("key=value\0" each, the plan's order): state.create */
  IMG_CG_CREATE = 202, /* STR* path: cgroup.create */
  IMG_CG_WRITE = 203,  /* STR* file, STR value: one file a limit or a v1 device rule writes */
  IMG_CG_BPF = 204,    /* STR* cgroup dir, BLOB program: a v2 device filter (cgroup.devices) */
  IMG_CLONE = 205,     /* no args: ns.clone, ctc-init starts with the init records */
  IMG_CG_JOIN = 206,   /* STR* path: cgroup.join of the init's pid */
  IMG_OOM = 207,       /* STR value: proc.oom-score */
  /* U64 mask, BLOB record: one wire.h op record of an init step; bit k of
   * the mask set when its argument k is STR* */
  IMG_INIT = 208,
  /* no args: a host step that has nothing to do on this host (it can still fail, CTC_FAIL_STEP) */
  IMG_NOP = 209,
};

#endif
