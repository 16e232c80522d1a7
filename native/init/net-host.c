/*
 * net-host.c: `ctc-init net OP ARGS...`, a one-shot mode of ctc-init for
 * the host's side of a container's network (netlink.h does the work):
 *
 *   net bridge NAME [mtu=N] [addr=CIDR]...
 *       create a bridge marked as ctc's (ifalias "ctc"), add the addresses,
 *       set it up. A link already named NAME is used as it is (exit 0).
 *   net bridge-release NAME
 *       delete the bridge if it is ctc's and has no ports; exit 0 also when
 *       it is missing or kept.
 *   net veth host=H peer=P pid=N [mtu=N] [txqlen=N] [mac=MAC] [bridge=B] [hairpin=1] [alias=A]
 *       a veth pair, H here and P in the network namespace of pid N (the
 *       MAC is P's); H gets the ifalias A (its owner's mark), joins bridge
 *       B, with hairpin, and is set up. All or nothing.
 *   net link-del NAME [alias=A]
 *       delete the link (a veth: both ends); with alias=A only if its
 *       ifalias is A. Exit 0 also when it is missing or kept.
 *   net addr DEV CIDR
 *   net route DEST|default [via=GW] [src=ADDR] [dev=DEV]
 *       DEST is a CIDR or one address; "default" takes the family of GW or
 *       ADDR (IPv4 without either).
 *
 * Exit status: 0, or the errno of the failing call, with one line on
 * stderr: "ctc-init: net: <what>: <strerror>". Bad usage (an unknown op or
 * option, a bad number, CIDR or MAC, a name over 15 bytes, an alias over
 * 255) is EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctc-init.h"
#include "netlink.h"

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "ctc-init: net: %s\n", msg);
  return EINVAL;
}

/* err is 0 or -errno; the exit status. */
__attribute__((format(printf, 2, 3))) static int result(int err, const char *fmt, ...)
{
  if (err >= 0)
    return 0;
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "ctc-init: net: %s: %s\n", what, strerror(-err));
  return -err;
}

/* The value of "key=value", or NULL if arg is not that key's. */
static const char *opt(const char *arg, const char *key)
{
  size_t n = strlen(key);
  return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* Decimal digits only, at most max. */
static int number(const char *text, unsigned long max, unsigned long *out)
{
  if (!*text || strspn(text, "0123456789") != strlen(text))
    return -1;
  errno = 0;
  *out = strtoul(text, NULL, 10);
  return errno || *out > max ? -1 : 0;
}

static int name_ok(const char *name)
{
  return *name && strlen(name) < IFNAMSIZ;
}

static int alias_ok(const char *alias)
{
  return *alias && strlen(alias) < 256; /* IFALIASZ */
}

#define BAD_NAME(name) usage("interface name '%s': 1 to %d bytes", name, IFNAMSIZ - 1)

static int net_bridge(int argc, char **argv)
{
  if (argc < 1)
    return usage("bridge NAME [mtu=N] [addr=CIDR]...");
  if (!name_ok(argv[0]))
    return BAD_NAME(argv[0]);
  unsigned long mtu = 0;
  struct nl_addr *addrs = calloc((size_t)argc, sizeof *addrs);
  size_t n = 0;
  if (!addrs)
    return ENOMEM;
  for (int i = 1; i < argc; i++) {
    const char *v, *a = argv[i];
    int bad = 0;
    if ((v = opt(a, "mtu")))
      bad = number(v, UINT32_MAX, &mtu) < 0;
    else if ((v = opt(a, "addr")))
      bad = nl_parse_cidr(v, &addrs[n++]) < 0;
    else
      return usage("bridge: unknown option '%s'", a);
    if (bad)
      return usage("bridge: bad %s (mtu=N, addr=10.88.0.1/16 or fd00::1/64)", a);
  }
  int err = nl_bridge_create(argv[0], (uint32_t)mtu, addrs, n);
  if (err == -EEXIST)
    err = 0; /* someone's link of that name: used as it is */
  return result(err, "bridge %s", argv[0]);
}

static int net_bridge_release(int argc, char **argv)
{
  if (argc != 1)
    return usage("bridge-release NAME");
  if (!name_ok(argv[0]))
    return BAD_NAME(argv[0]);
  int err = nl_bridge_release(argv[0]);
  return result(err < 0 ? err : 0, "bridge-release %s", argv[0]);
}

static int net_veth(int argc, char **argv)
{
  struct nl_veth veth = {0};
  uint8_t mac[6];
  unsigned long pid = 0, mtu = 0, txqlen = 0, hairpin = 0;
  for (int i = 0; i < argc; i++) {
    const char *v, *a = argv[i];
    int bad = 0;
    if ((v = opt(a, "host")))
      bad = !name_ok(veth.host = v);
    else if ((v = opt(a, "peer")))
      bad = !name_ok(veth.peer = v);
    else if ((v = opt(a, "bridge")))
      bad = !name_ok(veth.bridge = v);
    else if ((v = opt(a, "alias")))
      bad = !alias_ok(veth.alias = v);
    else if ((v = opt(a, "pid")))
      bad = number(v, INT_MAX, &pid) < 0 || pid == 0;
    else if ((v = opt(a, "mtu")))
      bad = number(v, UINT32_MAX, &mtu) < 0;
    else if ((v = opt(a, "txqlen")))
      bad = number(v, UINT32_MAX, &txqlen) < 0;
    else if ((v = opt(a, "hairpin")))
      bad = number(v, 1, &hairpin) < 0;
    else if ((v = opt(a, "mac"))) {
      bad = nl_parse_mac(v, mac) < 0;
      veth.mac = mac;
    } else
      return usage("veth: unknown option '%s'", a);
    if (bad)
      return usage("veth: bad %s (names of 1 to 15 bytes, aliases to 255, numbers in decimal, "
                   "mac=02:42:ac:11:00:02)",
                   a);
  }
  if (!veth.host || !veth.peer || !pid)
    return usage("veth host=H peer=P pid=N [mtu=N] [txqlen=N] [mac=MAC] [bridge=B] [hairpin=1] [alias=A]");
  if (hairpin && !veth.bridge)
    return usage("veth: hairpin=1 needs bridge=B");
  veth.pid = (pid_t)pid;
  veth.mtu = (uint32_t)mtu;
  veth.txqlen = (uint32_t)txqlen;
  veth.hairpin = (int)hairpin;
  return result(nl_veth_create(&veth), "veth %s", veth.host);
}

static int net_link_del(int argc, char **argv)
{
  const char *alias = argc == 2 ? opt(argv[1], "alias") : NULL;
  if (argc < 1 || argc > 2 || (argc == 2 && !alias))
    return usage("link-del NAME [alias=A]");
  if (!name_ok(argv[0]))
    return BAD_NAME(argv[0]);
  if (alias && !alias_ok(alias))
    return usage("link-del: alias '%s': 1 to 255 bytes", alias);
  int err = nl_link_del(argv[0], alias);
  return result(err < 0 ? err : 0, "link-del %s", argv[0]);
}

static int net_addr(int argc, char **argv)
{
  struct nl_addr a;
  if (argc != 2)
    return usage("addr DEV CIDR");
  if (!name_ok(argv[0]))
    return BAD_NAME(argv[0]);
  if (nl_parse_cidr(argv[1], &a) < 0)
    return usage("'%s': not an address/prefix (10.88.0.2/16, fd00::2/64)", argv[1]);
  return result(nl_addr_add(argv[0], a.family, a.bytes, a.prefix), "addr %s on %s", argv[1], argv[0]);
}

static int net_route(int argc, char **argv)
{
  if (argc < 1)
    return usage("route DEST|default [via=GW] [src=ADDR] [dev=DEV]");
  struct nl_addr dst = {0}, via = {0}, src = {0};
  int deflt = strcmp(argv[0], "default") == 0;
  if (!deflt && nl_parse_cidr(argv[0], &dst) < 0 && nl_parse_ip(argv[0], &dst) < 0)
    return usage("route: '%s' is not default, an address or address/prefix", argv[0]);
  const char *dev = NULL;
  for (int i = 1; i < argc; i++) {
    const char *v, *a = argv[i];
    int bad = 0;
    if ((v = opt(a, "via")))
      bad = nl_parse_ip(v, &via) < 0;
    else if ((v = opt(a, "src")))
      bad = nl_parse_ip(v, &src) < 0;
    else if ((v = opt(a, "dev")))
      bad = !name_ok(dev = v);
    else
      return usage("route: unknown option '%s'", a);
    if (bad)
      return usage("route: bad %s", a);
  }
  /* the first family given; the others must agree */
  int family = dst.family ? dst.family : via.family ? via.family : src.family ? src.family : AF_INET;
  if ((via.family && via.family != family) || (src.family && src.family != family))
    return usage("route: IPv4 and IPv6 addresses mixed");
  struct nl_route rt = {
      .family = family,
      .dst = deflt ? NULL : dst.bytes,
      .dst_len = deflt ? 0 : dst.prefix,
      .gateway = via.family ? via.bytes : NULL,
      .prefsrc = src.family ? src.bytes : NULL,
      .ifname = dev,
  };
  return result(nl_route_add(&rt), "route %s", argv[0]);
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
} ops[] = {
    {"bridge", net_bridge}, {"bridge-release", net_bridge_release},
    {"veth", net_veth},     {"link-del", net_link_del},
    {"addr", net_addr},     {"route", net_route},
};

int net_main(int argc, char **argv)
{
  for (size_t i = 0; argc >= 1 && i < sizeof ops / sizeof *ops; i++)
    if (strcmp(argv[0], ops[i].name) == 0)
      return ops[i].run(argc - 1, argv + 1);
  return usage("%s: unknown op (bridge, bridge-release, veth, link-del, addr, route)", argc >= 1 ? argv[0] : "(none)");
}
