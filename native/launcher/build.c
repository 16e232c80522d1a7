/*
 * build.c: `ctc build SRC.ct.ts` started straight from the V8 startup
 * snapshot (dist/build.blob, cli/build-snapshot.ts) instead of from a Node
 * that then starts it (cli/snapshot.ts): one Node start less. The same
 * checks as cli/snapshot.ts usable() on dist/build.blob.json; anything else
 * (another source, --help, a stale snapshot, NODE_OPTIONS) goes to the CLI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

/* node's exit status when it cannot use the snapshot */
#define SNAPSHOT_REFUSED 14

static int ends_with(const char *s, const char *end)
{
  size_t n = strlen(s), m = strlen(end);
  return n >= m && !strcmp(s + n - m, end);
}

/* cli/build.ts: the source is the first positional, app.ct.ts without one;
 * it must be a .ct.ts with no project config near it. */
static int source_is_ts(char **args)
{
  const char *src = NULL;
  for (int k = 0; args[k]; k++) {
    const char *a = args[k];
    if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--emit-bundle")) {
      if (!args[++k])
        return 0;
    } else if (!strncmp(a, "--output=", 9) || !strncmp(a, "--emit-bundle=", 14)) {
      continue;
    } else if (a[0] == '-') {
      return 0;
    } else if (!src) {
      src = a;
    }
  }
  src = src ? src : "app.ct.ts";
  return ends_with(src, ".ct.ts") && !config_near(src);
}

/* `size:mtimeNs`, as scripts/build.mjs stamps a file */
static int stamp_matches(const char *manifest, const char *file)
{
  char want[128], have[128];
  struct stat st;
  if (json_field(manifest, file, want, sizeof want) || stat(file, &st) < 0)
    return 0;
  snprintf(have, sizeof have, "%lld:%llu", (long long)st.st_size,
           (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
  return !strcmp(want, have);
}

static int sha256_matches(const char *file, const char *hex)
{
  size_t len;
  char *data = read_file(file, &len);
  if (!data)
    return 0;
  struct sha256_ctx h;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_init(&h);
  sha256_update(&h, len, (const uint8_t *)data);
  sha256_digest(&h, sizeof d, d);
  free(data);
  char mine[2 * SHA256_DIGEST_SIZE + 1];
  for (size_t k = 0; k < sizeof d; k++)
    snprintf(mine + 2 * k, 3, "%02x", d[k]);
  return !strcmp(mine, hex);
}

/* The node hand_over would run, resolved as execvp does, then made real. */
static int node_path(char *out)
{
  const char *node = getenv("CTC_NODE");
  if (node && *node)
    return realpath(node, out) ? 0 : -1;
  const char *path = getenv("PATH");
  char *copy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
  int found = -1;
  for (char *dir = strtok(copy, ":"); dir && found; dir = strtok(NULL, ":")) {
    char candidate[PATH_MAX];
    snprintf(candidate, sizeof candidate, "%s/node", *dir ? dir : ".");
    if (access(candidate, X_OK) == 0 && realpath(candidate, out))
      found = 0;
  }
  free(copy);
  return found;
}

int build_command(char **argv, char **args)
{
  const char *opts = getenv("NODE_OPTIONS");
  if (getenv("CTC_NO_SNAPSHOT") || (opts && *opts) || !source_is_ts(args))
    hand_over(NULL);
  char file[PATH_MAX + 32], root[PATH_MAX], node[PATH_MAX], value[PATH_MAX], cli[PATH_MAX + 16], cli_sha[80];
  snprintf(file, sizeof file, "%s/build.blob.json", dist_dir());
  char *manifest = read_file(file, NULL);
  snprintf(root, sizeof root, "%s", dist_dir());
  *strrchr(root, '/') = '\0';
  snprintf(cli, sizeof cli, "%s/ctc.mjs", dist_dir());
  char **flags = NULL;
  long nflags = manifest ? json_strings(manifest, "v8Flags", &flags) : -1;
  if (!manifest || nflags < 0 || json_field(manifest, "root", value, sizeof value) || strcmp(value, root) || node_path(node) ||
      json_field(manifest, "nodePath", value, sizeof value) || strcmp(value, node) || !stamp_matches(manifest, node) ||
      json_field(manifest, "typescriptPath", value, sizeof value) || !stamp_matches(manifest, value) ||
      json_field(manifest, "cli", cli_sha, sizeof cli_sha) || !sha256_matches(cli, cli_sha))
    hand_over(NULL);
  int argc = 0;
  while (argv[argc])
    argc++;
  char blob[PATH_MAX + 32];
  snprintf(blob, sizeof blob, "%s/build.blob", dist_dir());
  char **nargv = calloc((size_t)(argc + nflags + 5), sizeof *nargv);
  int n = 0;
  nargv[n++] = node;
  for (long k = 0; k < nflags; k++)
    nargv[n++] = flags[k];
  nargv[n++] = "--snapshot-blob";
  nargv[n++] = blob;
  nargv[n++] = "--";
  for (int k = 1; k < argc; k++)
    nargv[n++] = argv[k];
  pid_t pid = fork();
  if (pid < 0)
    hand_over(NULL);
  if (pid == 0) {
    execv(node, nargv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      hand_over(NULL);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  if (WEXITSTATUS(status) == SNAPSHOT_REFUSED || WEXITSTATUS(status) == 127)
    hand_over(NULL);
  return WEXITSTATUS(status);
}
