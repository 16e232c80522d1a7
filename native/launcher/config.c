/*
 * config.c: where a project's ctc config is (compiler/config.ts, the places
 * in compiler/config-places.json, compiled in by scripts/build.mjs), the
 * launcher hands `build` to the CLI: a config can say where plans go and
 * where errors are logged, and this C does not read configs. A script
 * config counts too: the CLI refuses it (CT_CONFIG_UNSAFE). Configs are
 * looked for from the source's folder up to its project root, as the CLI
 * does (compiler/confine.ts): the nearest folder with .git or package.json
 * that the user or root owns, never `/`; without one, the folder itself.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-places.h" /* CONFIG_PLACES: "package.json", ".ctcrc", ... */
#include "launcher.h"

static const char *const places[] = {CONFIG_PLACES};

/* package.json counts only with a top-level "ctc" key: strings and nesting are followed, values skipped. */
static int package_has_ctc(const char *file)
{
  char *text = read_file(file, NULL);
  int depth = 0, found = 0;
  for (const char *p = text; p && *p && !found; p++) {
    if (*p == '{' || *p == '[')
      depth++;
    else if (*p == '}' || *p == ']')
      depth--;
    else if (*p == '"') {
      const char *start = ++p;
      while (*p && *p != '"')
        p += *p == '\\' && p[1] ? 2 : 1;
      const char *q = *p ? p + 1 : p;
      while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
        q++;
      found = depth == 1 && *q == ':' && p - start == 3 && !strncmp(start, "ctc", 3);
      if (!*p)
        break;
    }
  }
  free(text);
  return found;
}

static int config_in(const char *dir)
{
  char file[PATH_MAX + 64];
  struct stat st;
  for (size_t k = 0; k < sizeof places / sizeof *places; k++) {
    snprintf(file, sizeof file, "%s/%s", dir, places[k]);
    if (stat(file, &st) == 0 && (strcmp(places[k], "package.json") || package_has_ctc(file)))
      return 1;
  }
  return 0;
}

/* A marker another user planted (a /tmp/package.json) would widen the project. */
static int root_marker(const char *dir)
{
  static const char *const markers[] = {".git", "package.json"};
  char file[PATH_MAX + 16];
  struct stat st;
  for (size_t k = 0; k < sizeof markers / sizeof *markers; k++) {
    snprintf(file, sizeof file, "%s/%s", dir, markers[k]);
    if (lstat(file, &st) == 0 && (st.st_uid == 0 || st.st_uid == geteuid()))
      return 1;
  }
  return 0;
}

/* The project root of dir (a real path, not "/"): into root, PATH_MAX bytes. */
static void project_root(const char *dir, char *root)
{
  strcpy(root, dir);
  while (strcmp(root, "/")) {
    if (root_marker(root))
      return;
    char *slash = strrchr(root, '/');
    if (slash == root)
      break;
    *slash = '\0';
  }
  strcpy(root, dir);
}

int config_near(const char *path)
{
  char dir[PATH_MAX], root[PATH_MAX];
  if (!realpath(path, dir))
    return 0; /* nothing there: the command fails the same either way */
  struct stat st;
  if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
    *strrchr(dir, '/') = '\0';
  if (!*dir)
    strcpy(dir, "/");
  project_root(dir, root);
  for (;;) {
    if (config_in(dir))
      return 1;
    char *slash = strrchr(dir, '/');
    if (!strcmp(dir, root) || !slash || slash == dir)
      return 0;
    *slash = '\0';
  }
}
