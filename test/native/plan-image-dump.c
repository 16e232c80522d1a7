/*
 * plan-image-dump.c: the test driver of the launcher's plan reader and run
 * image builder (native/launcher/plan-image.h), compiled by
 * test/unit/plan-image.test.ts from the launcher's sources without main.c.
 *
 *   plan-image-dump PLAN   the image plan_image() builds for PLAN on this
 *                          host, on stdout; exit 3 (and why on stderr) when
 *                          it builds none, as the launcher then hands over
 *   plan-image-dump --v2 PLAN   the image for a pure cgroup v2 host (/sys/fs/cgroup), whatever this one is
 *   plan-image-dump --check PLAN   plan_read + plan_check only: 0, or 3 and why
 *   plan-image-dump --device-filter RULE...   the v2 device filter program of
 *                          the rules (device-rules.c), on stdout; 3 if one does not read
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../native/launcher/plan-image.h"

/* main.c's, which the driver leaves out: nothing here may hand over */
_Noreturn void hand_over(const char *extra_env)
{
  (void)extra_env;
  fprintf(stderr, "plan-image-dump: hand_over called\n");
  exit(4);
}

const char *dist_dir(void)
{
  return "/nonexistent";
}

int main(int argc, char **argv)
{
  if (argc >= 2 && !strcmp(argv[1], "--device-filter")) {
    struct buf program = {0};
    if (device_program(argv + 2, (size_t)argc - 2, &program) < 0)
      return 3;
    return fwrite(program.p, 1, program.len, stdout) == program.len ? 0 : 1;
  }
  int check = argc == 3 && !strcmp(argv[1], "--check");
  if (argc == 3 && !strcmp(argv[1], "--v2"))
    cg_assume_v2("/sys/fs/cgroup");
  const char *file = argv[argc == 3 ? 2 : 1];
  size_t len;
  char *text = file ? read_file(file, &len) : NULL;
  if (!text)
    return perror(file ? file : "usage: plan-image-dump [--check] PLAN"), 2;
  if (check) {
    struct plan p;
    int r = plan_read(text, len, &p) < 0 || plan_check(&p) < 0 ? 3 : 0;
    if (r)
      fprintf(stderr, "%s\n", p.why);
    plan_free(&p);
    free(text);
    return r;
  }
  /* PLAN_IMAGE_REPEAT=N: build it N times first, and say how long one build takes (docs/design.md's numbers) */
  const char *repeat = getenv("PLAN_IMAGE_REPEAT");
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long k = repeat ? atol(repeat) : 0; k > 0; k--) {
    struct buf b = {0};
    plan_image(text, len, "", &b);
    buf_free(&b);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (repeat && atol(repeat) > 0)
    fprintf(stderr, "%.1f us a build\n",
            ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)atol(repeat));
  struct buf out = {0};
  int r = plan_image(text, len, "", &out) < 0 ? 3 : fwrite(out.p, 1, out.len, stdout) == out.len ? 0 : 1;
  if (r == 3)
    fprintf(stderr, "no image: %s\n", plan_image_why);
  free(text), buf_free(&out);
  return r;
}
