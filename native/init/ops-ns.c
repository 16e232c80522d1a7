/*
 * ops-ns.c: I's namespace ops (unshare, setns; M joins a user and a pid
 * namespace with op_setns too), its host and domain names, and the network
 * inside its namespace: links up, addresses and routes (netlink.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctc-init.h"
#include "netlink.h"
#include "program.h"

int op_unshare(uint64_t flags)
{
  if (unshare(flags) < 0)
    return -errno;
  /* A new mount namespace has its own copy of the root mount; the old fd
   * would point back into the old namespace. */
  if (flags & CLONE_NEWNS)
    return root_open(root_path() ? root_path() : "/", root_path());
  return 0;
}

int op_setns(const char *path, uint64_t nstype)
{
  const uint64_t kinds =
      CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME;
  /* One kind, named: with 0 setns joins whatever the path turns out to be. */
  if (!nstype || (nstype & (nstype - 1)) || !(nstype & kinds))
    return -EINVAL;
  autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat theirs, ours;
  /* Joining the user namespace one is in is EINVAL to the kernel; it is
   * nothing to do (a config may name the host's). */
  if (nstype == CLONE_NEWUSER && fstat(fd, &theirs) == 0 && stat("/proc/self/ns/user", &ours) == 0 &&
      theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
    return 0;
  if (setns(fd, (int)nstype) < 0)
    return -errno;
  if (nstype != CLONE_NEWNS)
    return 0;
  /* The kernel has moved our root and cwd to the joined namespace's "/";
   * "in root" paths follow it. */
  return root_open("/", root_path());
}

int op_hostname(const char *name)
{
  return sethostname(name, strlen(name)) < 0 ? -errno : 0;
}

int op_domainname(const char *name)
{
  return setdomainname(name, strlen(name)) < 0 ? -errno : 0;
}

int op_link_up(const char *ifname)
{
  struct ifreq ifr = {0};
  if (strlen(ifname) >= sizeof ifr.ifr_name)
    return -EINVAL;
  strcpy(ifr.ifr_name, ifname);
  autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return -errno;
  ifr.ifr_flags |= IFF_UP;
  return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int op_net_addr(const char *ifname, uint64_t family, const char *addr, size_t len, uint64_t prefix)
{
  if ((family != AF_INET && family != AF_INET6) || len != nl_addr_size((int)family) || prefix > len * 8)
    return -EINVAL;
  return nl_addr_add(ifname, (int)family, addr, (unsigned)prefix);
}

/* An address BLOB of a route: empty (*out = NULL) or one address of size bytes. */
static int route_addr(const struct arg *a, size_t size, const void **out)
{
  *out = a->len ? a->p : NULL;
  return a->len == 0 || a->len == size ? 0 : -EINVAL;
}

int op_net_route(uint64_t family, const struct arg *dst, uint64_t dst_len, const struct arg *gateway, const struct arg *prefsrc,
                 const char *ifname)
{
  if (family != AF_INET && family != AF_INET6)
    return -EINVAL;
  size_t size = nl_addr_size((int)family);
  struct nl_route rt = {.family = (int)family, .ifname = ifname};
  if (dst_len > size * 8 || route_addr(dst, size, &rt.dst) < 0 || route_addr(gateway, size, &rt.gateway) < 0 ||
      route_addr(prefsrc, size, &rt.prefsrc) < 0)
    return -EINVAL;
  rt.dst_len = (unsigned)dst_len;
  return nl_route_add(&rt);
}
