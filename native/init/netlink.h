/*
 * netlink.h: a small rtnetlink encoder for ctc-init's network steps: the
 * host's (`ctc-init net ...`, net-host.c: bridges, veth pairs) and the
 * container init's (CTC_OP_NET_ADDR, CTC_OP_NET_ROUTE).
 *
 * Each call opens its own NETLINK_ROUTE socket in the caller's network
 * namespace, sends requests with NLM_F_REQUEST|NLM_F_ACK and reads the
 * acks. Every function returns 0 or -errno, the errno being the kernel's
 * (from the NLMSG_ERROR ack) unless the arguments are refused before
 * anything is sent (-EINVAL). Interface names are at most 15 bytes
 * (IFNAMSIZ - 1).
 */
#ifndef CTC_NETLINK_H
#define CTC_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An IPv4 or IPv6 address with its prefix length. */
struct nl_addr {
  int family; /* AF_INET or AF_INET6 */
  unsigned prefix;
  uint8_t bytes[16]; /* 4 or 16 used */
};

/* The size of a family's addresses: 4, 16, or 0 for another family. */
size_t nl_addr_size(int family);

/* "10.88.0.2/24", "fd00::2/64": 0 or -EINVAL. */
int nl_parse_cidr(const char *text, struct nl_addr *out);
/* "10.88.0.2", "fd00::2" (prefix = the whole address): 0 or -EINVAL. */
int nl_parse_ip(const char *text, struct nl_addr *out);
/* "02:42:ac:11:00:02": 0 or -EINVAL. */
int nl_parse_mac(const char *text, uint8_t mac[6]);

/* Create a bridge marked as ctc's (ifalias "ctc"), with the MTU if not 0,
 * add the addresses (one already there is fine) and set it up. Its MAC and
 * MTU are pinned: they do not follow its ports'. All or nothing: if a
 * later part fails, the bridge is deleted again. -EEXIST when a link of
 * that name exists (it is left as it is). */
int nl_bridge_create(const char *name, uint32_t mtu, const struct nl_addr *addrs, size_t naddrs);

/* Delete the bridge if it is ctc's (a bridge whose ifalias is "ctc") and
 * no link has it as its master. 0 when it is gone (deleted, or missing),
 * 1 when it is kept (in use, or not ctc's), or -errno. */
int nl_bridge_release(const char *name);

struct nl_veth {
  const char *host; /* the end in the caller's network namespace */
  const char *peer; /* the end created in pid's network namespace */
  pid_t pid;
  uint32_t mtu;       /* both ends; 0 = the kernel's default */
  uint32_t txqlen;    /* both ends; 0 = the kernel's default */
  const uint8_t *mac; /* the peer's, 6 bytes; NULL = random */
  const char *bridge; /* the host end's master; NULL = none */
  int hairpin;        /* the host end reflects frames back (needs bridge) */
  const char *alias;  /* the host end's ifalias (whose it is); NULL = none */
};

/* Create a veth pair, then give the host end its alias and bridge, set
 * hairpin and set the host end up. All or nothing: if a later part fails,
 * the pair is deleted again. The peer stays down (it is the container's). */
int nl_veth_create(const struct nl_veth *v);

/* Delete a link (both ends, for a veth); with an alias, only if its
 * ifalias is exactly that. 0 when it is gone (deleted, or missing), 1 when
 * it is kept (another alias), or -errno. */
int nl_link_del(const char *name, const char *alias);

/* Set a link up. */
int nl_link_up(const char *name);

/* Add an address (family AF_INET or AF_INET6, addr of 4 or 16 bytes) to a
 * link. An IPv6 address is usable at once (no duplicate address detection).
 * An address already there is -EEXIST. */
int nl_addr_add(const char *ifname, int family, const void *addr, unsigned prefix);

struct nl_route {
  int family;      /* AF_INET or AF_INET6 */
  const void *dst; /* NULL = the default route (dst_len 0) */
  unsigned dst_len;
  const void *gateway; /* NULL = none: the destination is on the link */
  const void *prefsrc; /* NULL = none */
  const char *ifname;  /* the output interface; NULL or "" = none */
};

/* Add a route to the main table. A route already there is -EEXIST. */
int nl_route_add(const struct nl_route *r);

#endif
