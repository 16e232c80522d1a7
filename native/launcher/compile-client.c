/*
 * compile-client.c: a bundle's plan from `ctc compile-server`
 * (cli/compile-server.ts has the protocol and why it exists), so the first
 * run of a config.json this host has not seen needs no Node. Optional: no
 * server, a socket that is not root's alone, a slow or odd answer, a plan
 * for other bytes than the config's: NULL, and the run goes to the CLI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "launcher.h"

#define MAX_ANSWER (16u << 20)

int log_given; /* set by main.c */

/* The server's socket, if root made it and only root can reach it (its folder root's, 0700). */
static const char *server_socket(void)
{
  const char *path = getenv("CTC_COMPILE_SOCKET");
  path = path && *path ? path : COMPILE_SOCKET;
  char dir[sizeof((struct sockaddr_un *)0)->sun_path];
  if (strlen(path) >= sizeof dir)
    return NULL;
  strcpy(dir, path);
  *strrchr(dir, '/') = '\0';
  struct stat st, ds;
  if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
    return NULL;
  if (lstat(*dir ? dir : "/", &ds) < 0 || !S_ISDIR(ds.st_mode) || ds.st_uid != 0 || (ds.st_mode & 077))
    return NULL;
  return path;
}

static int connect_to(const char *path)
{
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, path);
  /* a server that hangs costs a run this long, then the CLI compiles */
  struct timeval t = {.tv_sec = 2};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t) < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t) < 0 ||
      connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
    return close(fd), -1;
  return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

static int read_answer(int fd, struct buf *out)
{
  char chunk[65536];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r == 0)
      return 0;
    if (r < 0 || out->len + (size_t)r > MAX_ANSWER)
      return -1;
    buf_add(out, chunk, (size_t)r);
  }
}

/* The plan names the bytes it was compiled from: `source config.json <their sha256>` (plan/text.ts). */
static int names_config(const char *plan, const char *config, size_t len)
{
  struct sha256_ctx h;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_init(&h);
  sha256_update(&h, len, (const uint8_t *)config);
  sha256_digest(&h, sizeof d, d);
  char line[128] = "\nsource config.json ";
  for (int k = 0; k < SHA256_DIGEST_SIZE; k++)
    snprintf(line + strlen(line), 3, "%02x", d[k]);
  strcat(line, "\n");
  const char *first = strchr(plan, '\n');
  /* the header's one source line, right after `ctc-plan 1` */
  return first && first - plan == 10 && !strncmp(plan, "ctc-plan 1", 10) && !strncmp(first, line, strlen(line));
}

/* The answer: "ok\n" PLAN, or "warn\n" WARNINGS "\0" PLAN (cli/compile-server.ts): where each
 * begins (warn_at 0: none); the plan is NUL-terminated after. 0 or -1 */
static int split_answer(struct buf *ans, size_t *plan_at, size_t *plan_len, size_t *warn_at)
{
  const char *nul;
  if (ans->len >= 3 && !memcmp(ans->p, "ok\n", 3))
    *warn_at = 0, *plan_at = 3;
  else if (ans->len >= 5 && !memcmp(ans->p, "warn\n", 5) && (nul = memchr(ans->p, '\0', ans->len)))
    *warn_at = 5, *plan_at = (size_t)(nul - ans->p) + 1;
  else
    return -1;
  *plan_len = ans->len - *plan_at;
  if (memchr(ans->p + *plan_at, '\0', *plan_len))
    return -1;
  buf_add(ans, "", 1);
  return 0;
}

int compile_remote(const char *bundle, const char *config, size_t len, char **plan, size_t *plan_len, char **warnings)
{
  const char *path = server_socket();
  int fd = path && !strchr(bundle, '\n') ? connect_to(path) : -1;
  if (fd < 0)
    return -1;
  struct buf req = {0}, ans = {0};
  buf_fmt(&req, "ctc-compile 1\n%s\n", bundle);
  buf_add(&req, config, len);
  int ok = send_all(fd, req.p, req.len) == 0 && shutdown(fd, SHUT_WR) == 0 && read_answer(fd, &ans) == 0;
  close(fd);
  buf_free(&req);
  size_t plan_at, warn_at;
  if (!ok || split_answer(&ans, &plan_at, plan_len, &warn_at) < 0 || !names_config(ans.p + plan_at, config, len)) {
    buf_free(&ans);
    return -1;
  }
  *plan = strdup(ans.p + plan_at);
  *warnings = warn_at ? strdup(ans.p + warn_at) : NULL;
  buf_free(&ans);
  return *plan && (!warn_at || *warnings) ? 0 : -1;
}
