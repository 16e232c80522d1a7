/*
 * config.c: where a project's ctc config is (compiler/config.ts, the places
 * in compiler/config-places.json, compiled in by scripts/build.mjs), the
 * launcher hands the command to the CLI: a config can change the state
 * root, the log, where plans go, and this C does not read configs.
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

int config_near(const char *path)
{
  char dir[PATH_MAX];
  if (!realpath(path ? path : ".", dir))
    return 0; /* nothing there: the command fails the same either way */
  struct stat st;
  if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
    *strrchr(dir, '/') = '\0';
  for (;;) {
    if (config_in(*dir ? dir : "/"))
      return 1;
    char *slash = strrchr(dir, '/');
    if (!slash || !*dir)
      return 0;
    *slash = '\0';
  }
}
