/*
 * netlink.c: the rtnetlink encoder of netlink.h.
 *
 * A request is built in a fixed buffer (ours are small and bounded: a few
 * names, numbers and addresses), sent on a fresh NETLINK_ROUTE socket, and
 * answered by the kernel with an NLMSG_ERROR ack whose error is 0 or
 * -errno; a GETLINK's answer comes before its ack, a dump's ends with
 * NLMSG_DONE instead. Attributes are struct nlattr, 4-byte aligned, their
 * lengths not counting the padding, nlmsg_len counting it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* after the libc headers: linux/in6.h then leaves libc's definitions alone */
#include <linux/if_bridge.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "ctc-init.h"
#include "netlink.h"

/* The ifalias that marks a bridge as made by ctc (and so, ctc's to delete). */
#define CTC_ALIAS "ctc"
/* IFALIASZ of linux/if.h (which clashes with net/if.h): an alias and its NUL. */
#define ALIAS_SIZE 256

/* ---- requests ------------------------------------------------------------ */

struct req {
  union {
    struct nlmsghdr h;
    char buf[1024];
  };
  int full; /* an attribute did not fit: the request is not sent */
};

/* A new request with a zeroed family header (ifinfomsg, ifaddrmsg, rtmsg) of
 * hdr_len bytes, which is returned. */
static void *start(struct req *r, uint16_t type, uint16_t flags, size_t hdr_len)
{
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = NLMSG_LENGTH(hdr_len);
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return NLMSG_DATA(&r->h);
}

static struct nlattr *put(struct req *r, uint16_t type, const void *data, size_t len)
{
  size_t at = NLMSG_ALIGN(r->h.nlmsg_len), end = at + NLA_ALIGN(NLA_HDRLEN + len);
  if (end > sizeof r->buf) {
    r->full = 1;
    return NULL;
  }
  struct nlattr *a = (struct nlattr *)(r->buf + at);
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + len);
  if (len)
    memcpy((char *)a + NLA_HDRLEN, data, len);
  r->h.nlmsg_len = (uint32_t)end;
  return a;
}

static void put_u8(struct req *r, uint16_t type, uint8_t v)
{
  put(r, type, &v, sizeof v);
}

static void put_u32(struct req *r, uint16_t type, uint32_t v)
{
  put(r, type, &v, sizeof v);
}

static void put_str(struct req *r, uint16_t type, const char *s)
{
  put(r, type, s, strlen(s) + 1);
}

/* Nested attributes: open with nest(), put the inner ones, then finish(). */
static struct nlattr *nest(struct req *r, uint16_t type)
{
  return put(r, type | NLA_F_NESTED, NULL, 0);
}

/* Extends an attribute over everything put after it. */
static void finish(struct req *r, struct nlattr *a)
{
  if (a)
    a->nla_len = (uint16_t)(r->buf + r->h.nlmsg_len - (char *)a);
}

/* ---- the exchange --------------------------------------------------------- */

/* Called for each answer that is not the ack; 0, or -errno to stop. */
typedef int reply_fn(const struct nlmsghdr *m, void *arg);

/* One answer: 1 to read on, else the result (0 or -errno). */
static int answer(const struct nlmsghdr *m, reply_fn *on_reply, void *arg)
{
  int err;
  switch (m->nlmsg_type) {
  case NLMSG_ERROR: /* the ack: error 0 is success */
  case NLMSG_DONE:  /* the end of a dump: its payload is an error too */
    if (m->nlmsg_len < NLMSG_LENGTH(sizeof err))
      return m->nlmsg_type == NLMSG_DONE ? 0 : -EBADMSG;
    memcpy(&err, NLMSG_DATA(m), sizeof err);
    return err > 0 ? -EPROTO : err;
  case NLMSG_NOOP: return 1;
  default: err = on_reply ? on_reply(m, arg) : 0; return err < 0 ? err : 1;
  }
}

/* Sends the request on a socket of its own and reads until its ack (or a
 * dump's end). 0 or -errno. */
static int talk(struct req *r, reply_fn *on_reply, void *arg)
{
  static char in[32768] __attribute__((aligned(8))); /* a dump's parts are at most 32 KiB */
  if (r->full)
    return -EMSGSIZE;
  autoclose int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0)
    return -errno;
  const uint32_t seq = 1; /* one request per socket */
  r->h.nlmsg_seq = seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(s, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    return -errno;
  for (;;) {
    struct sockaddr_nl from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(s, in, sizeof in, MSG_TRUNC, (struct sockaddr *)&from, &from_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if ((size_t)n > sizeof in)
      return -EMSGSIZE;
    if (from.nl_pid != 0)
      continue; /* only the kernel answers */
    for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
      const struct nlmsghdr *m = (const struct nlmsghdr *)(in + off);
      if (m->nlmsg_len < sizeof *m || m->nlmsg_len > (size_t)n - off)
        return -EBADMSG;
      int done = m->nlmsg_seq == seq ? answer(m, on_reply, arg) : 1;
      if (done <= 0)
        return done;
      off += NLMSG_ALIGN(m->nlmsg_len);
    }
  }
}

/* ---- answers --------------------------------------------------------------- */

/* The attributes in len bytes at p, by type (those >= max are skipped). */
static void parse(const struct nlattr **tb, size_t max, const void *p, size_t len)
{
  memset(tb, 0, max * sizeof *tb);
  while (len >= NLA_HDRLEN) {
    const struct nlattr *a = p;
    if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
      return;
    if ((a->nla_type & NLA_TYPE_MASK) < max)
      tb[a->nla_type & NLA_TYPE_MASK] = a;
    size_t step = NLA_ALIGN(a->nla_len);
    if (step >= len)
      return;
    p = (const char *)p + step;
    len -= step;
  }
}

static const void *payload(const struct nlattr *a)
{
  return (const char *)a + NLA_HDRLEN;
}

static uint32_t get_u32(const struct nlattr *a)
{
  uint32_t v = 0;
  if (a && a->nla_len >= NLA_HDRLEN + sizeof v)
    memcpy(&v, payload(a), sizeof v);
  return v;
}

/* A string attribute equal to s (its NUL included). */
static int str_is(const struct nlattr *a, const char *s)
{
  size_t n = strlen(s) + 1;
  return a && a->nla_len == NLA_HDRLEN + n && memcmp(payload(a), s, n) == 0;
}

/* What we need to know of a link. */
struct link {
  int index;              /* 0 until an answer came */
  int master;             /* ifindex of its bridge, or 0 */
  int bridge;             /* its kind is "bridge" */
  char alias[ALIAS_SIZE]; /* "" if it has none */
  uint8_t mac[6];         /* all 0 if it has none */
};

static int on_link(const struct nlmsghdr *m, void *arg)
{
  struct link *l = arg;
  const struct ifinfomsg *ifi = NLMSG_DATA(m);
  if (m->nlmsg_type != RTM_NEWLINK || m->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
    return 0;
  const struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
  parse(tb, IFLA_MAX + 1, (const char *)ifi + NLMSG_ALIGN(sizeof *ifi), m->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
  memset(info, 0, sizeof info);
  if (tb[IFLA_LINKINFO])
    parse(info, IFLA_INFO_MAX + 1, payload(tb[IFLA_LINKINFO]), tb[IFLA_LINKINFO]->nla_len - NLA_HDRLEN);
  l->index = ifi->ifi_index;
  l->master = (int)get_u32(tb[IFLA_MASTER]);
  l->bridge = str_is(info[IFLA_INFO_KIND], "bridge");
  const struct nlattr *alias = tb[IFLA_IFALIAS];
  if (alias) /* the kernel keeps at most ALIAS_SIZE - 1 bytes */
    snprintf(l->alias, sizeof l->alias, "%.*s", (int)(alias->nla_len - NLA_HDRLEN), (const char *)payload(alias));
  if (tb[IFLA_ADDRESS] && tb[IFLA_ADDRESS]->nla_len == NLA_HDRLEN + sizeof l->mac)
    memcpy(l->mac, payload(tb[IFLA_ADDRESS]), sizeof l->mac);
  return 0;
}

/* ---- links ----------------------------------------------------------------- */

static int bad_name(const char *name)
{
  return !name || !*name || strlen(name) >= IFNAMSIZ;
}

/* A link by name: -ENODEV if there is none. */
static int link_get(const char *name, struct link *l)
{
  if (bad_name(name))
    return -EINVAL;
  struct req r;
  start(&r, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
  put_str(&r, IFLA_IFNAME, name);
  *l = (struct link){0};
  int err = talk(&r, on_link, l);
  return err < 0 ? err : l->index ? 0 : -ENODEV;
}

/* A link's ifindex, or -errno. */
static int link_index(const char *name)
{
  struct link l;
  int err = link_get(name, &l);
  return err < 0 ? err : l.index;
}

/* An RTM_SETLINK of the link with that index (family AF_UNSPEC). */
static void setlink(struct req *r, int index)
{
  struct ifinfomsg *ifi = start(r, RTM_SETLINK, 0, sizeof *ifi);
  ifi->ifi_index = index;
}

static int link_up(int index)
{
  struct req r;
  setlink(&r, index);
  struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP; /* the other flags stay as they are */
  return talk(&r, NULL, NULL);
}

int nl_link_up(const char *name)
{
  int index = link_index(name);
  return index < 0 ? index : link_up(index);
}

/* Deletes by ifindex: a link looked at first is the one deleted, even if
 * another one takes its name meanwhile. */
static int link_del_index(int index)
{
  struct req r;
  struct ifinfomsg *ifi = start(&r, RTM_DELLINK, 0, sizeof *ifi);
  ifi->ifi_index = index;
  int err = talk(&r, NULL, NULL);
  return err == -ENODEV ? 0 : err; /* deleted by someone else meanwhile */
}

int nl_link_del(const char *name, const char *alias)
{
  struct link l;
  int err = link_get(name, &l);
  if (err < 0)
    return err == -ENODEV ? 0 : err;
  if (alias && strcmp(l.alias, alias) != 0)
    return 1;
  return link_del_index(l.index);
}

/* ---- addresses and routes -------------------------------------------------- */

size_t nl_addr_size(int family)
{
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int addr_add(int index, int family, const void *addr, unsigned prefix)
{
  size_t size = nl_addr_size(family);
  if (!size || prefix > size * 8)
    return -EINVAL;
  struct req r;
  struct ifaddrmsg *ifa = start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa);
  ifa->ifa_family = (uint8_t)family;
  ifa->ifa_prefixlen = (uint8_t)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (uint32_t)index;
  /* IFA_LOCAL is the address; IFA_ADDRESS is the peer's on a point-to-point
   * link, and the same address on any other. */
  put(&r, IFA_LOCAL, addr, size);
  put(&r, IFA_ADDRESS, addr, size);
  if (family == AF_INET && prefix < 31) {
    /* As `ip addr add ... brd +`: without it the subnet's broadcast
     * address is not the link's broadcast (no broadcast route for it). */
    uint32_t a, mask = htonl(~0u >> prefix);
    memcpy(&a, addr, sizeof a);
    a |= mask;
    put(&r, IFA_BROADCAST, &a, sizeof a);
  }
  /* Without NODAD an IPv6 address stays "tentative" (unusable, also as a
   * route's source: EINVAL) until duplicate address detection is done: a
   * second or more, and only once the link has a carrier (a bridge: once a
   * port is up). The address comes from the config: nothing to detect. */
  if (family == AF_INET6)
    put_u32(&r, IFA_FLAGS, IFA_F_NODAD);
  return talk(&r, NULL, NULL);
}

int nl_addr_add(const char *ifname, int family, const void *addr, unsigned prefix)
{
  int index = link_index(ifname);
  return index < 0 ? index : addr_add(index, family, addr, prefix);
}

int nl_route_add(const struct nl_route *rt)
{
  size_t size = nl_addr_size(rt->family);
  if (!size || rt->dst_len > size * 8 || (!rt->dst && rt->dst_len))
    return -EINVAL;
  int oif = 0;
  if (rt->ifname && *rt->ifname && (oif = link_index(rt->ifname)) < 0)
    return oif;
  struct req r;
  struct rtmsg *m = start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *m);
  m->rtm_family = (uint8_t)rt->family;
  m->rtm_dst_len = (uint8_t)rt->dst_len;
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = RTPROT_BOOT;
  m->rtm_type = RTN_UNICAST;
  /* IPv4: a gateway must be reached through a route of narrower scope than
   * the new one's, so a route via a gateway is universe; one without is
   * the link's own (what `ip route` picks too). IPv6 ignores the scope. */
  m->rtm_scope = rt->gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (rt->dst)
    put(&r, RTA_DST, rt->dst, size);
  if (rt->gateway)
    put(&r, RTA_GATEWAY, rt->gateway, size);
  if (rt->prefsrc)
    put(&r, RTA_PREFSRC, rt->prefsrc, size);
  if (oif)
    put_u32(&r, RTA_OIF, (uint32_t)oif);
  return talk(&r, NULL, NULL);
}

/* ---- bridges ----------------------------------------------------------------- */

static int bridge_new(const char *name)
{
  struct req r;
  start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
  put_str(&r, IFLA_IFNAME, name);
  struct nlattr *info = nest(&r, IFLA_LINKINFO);
  put_str(&r, IFLA_INFO_KIND, "bridge");
  finish(&r, info);
  return talk(&r, NULL, NULL);
}

/* Set apart from the creation: a creating RTM_NEWLINK ignores IFLA_IFALIAS,
 * and an MTU given there is not "set by the user" for the bridge, which
 * then takes its smallest port's MTU whenever a port joins. Changed by
 * RTM_SETLINK, it stays (but a change to the MTU the bridge already has,
 * 1500, is no change, and does not pin it). The MAC likewise: until set,
 * it is the smallest of the ports' (00:00:00:00:00:00 with none), so it
 * would change as containers come and go while their neighbour caches
 * hold the old one. Set to the random one it was born with, it stays. */
static int bridge_mark(const struct link *br, uint32_t mtu)
{
  struct req r;
  setlink(&r, br->index);
  static const uint8_t none[sizeof br->mac];
  put_str(&r, IFLA_IFALIAS, CTC_ALIAS);
  if (memcmp(br->mac, none, sizeof none))
    put(&r, IFLA_ADDRESS, br->mac, sizeof br->mac);
  if (mtu)
    put_u32(&r, IFLA_MTU, mtu);
  return talk(&r, NULL, NULL);
}

int nl_bridge_create(const char *name, uint32_t mtu, const struct nl_addr *addrs, size_t naddrs)
{
  int err = bad_name(name) ? -EINVAL : bridge_new(name);
  if (err < 0)
    return err; /* -EEXIST included: the link is not ours to change */
  struct link br;
  err = link_get(name, &br);
  if (!err)
    err = bridge_mark(&br, mtu);
  for (size_t i = 0; !err && i < naddrs; i++) {
    err = addr_add(br.index, addrs[i].family, addrs[i].bytes, addrs[i].prefix);
    if (err == -EEXIST)
      err = 0;
  }
  if (!err)
    err = link_up(br.index);
  /* A half-made bridge would be taken as it is by the next create. */
  if (err < 0)
    nl_link_del(name, NULL);
  return err;
}

struct ports {
  int bridge;
  int found;
};

static int on_port(const struct nlmsghdr *m, void *arg)
{
  struct ports *p = arg;
  struct link l = {0};
  on_link(m, &l);
  if (l.index && l.master == p->bridge)
    p->found = 1;
  return 0;
}

/* Whether any link has the bridge as its master: 1, 0 or -errno. */
static int has_ports(int bridge)
{
  struct req r;
  start(&r, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
  /* Newer kernels dump only the bridge's ports then; older ones ignore the
   * filter, and every link's master is checked anyway. */
  put_u32(&r, IFLA_MASTER, (uint32_t)bridge);
  struct ports p = {.bridge = bridge};
  int err = talk(&r, on_port, &p);
  return err < 0 ? err : p.found;
}

int nl_bridge_release(const char *name)
{
  struct link br;
  int err = link_get(name, &br);
  if (err == -ENODEV)
    return 0;
  if (err < 0)
    return err;
  if (!br.bridge || strcmp(br.alias, CTC_ALIAS) != 0)
    return 1;
  if ((err = has_ports(br.index)) != 0)
    return err;
  return link_del_index(br.index);
}

/* ---- veth pairs ------------------------------------------------------------- */

static void put_mtu_txqlen(struct req *r, uint32_t mtu, uint32_t txqlen)
{
  if (mtu)
    put_u32(r, IFLA_MTU, mtu);
  if (txqlen)
    put_u32(r, IFLA_TXQLEN, txqlen);
}

static int veth_new(const struct nl_veth *v)
{
  struct req r;
  start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
  put_str(&r, IFLA_IFNAME, v->host);
  put_mtu_txqlen(&r, v->mtu, v->txqlen);
  struct nlattr *info = nest(&r, IFLA_LINKINFO);
  put_str(&r, IFLA_INFO_KIND, "veth");
  struct nlattr *data = nest(&r, IFLA_INFO_DATA);
  /* VETH_INFO_PEER is not a plain nest: like an RTM_NEWLINK's body, a
   * struct ifinfomsg comes before the peer's attributes. */
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  struct nlattr *peer = put(&r, VETH_INFO_PEER, &peer_ifi, sizeof peer_ifi);
  put_str(&r, IFLA_IFNAME, v->peer);
  /* Born in the namespace of the pid: the name is taken there, never in
   * ours, and the peer is never visible on the host. */
  put_u32(&r, IFLA_NET_NS_PID, (uint32_t)v->pid);
  put_mtu_txqlen(&r, v->mtu, v->txqlen);
  if (v->mac)
    put(&r, IFLA_ADDRESS, v->mac, 6);
  finish(&r, peer);
  finish(&r, data);
  finish(&r, info);
  return talk(&r, NULL, NULL);
}

/* The host end's alias and master, at once: a creating RTM_NEWLINK
 * ignores IFLA_IFALIAS. */
static int veth_host_end(int index, const char *alias, const char *bridge)
{
  int master = bridge ? link_index(bridge) : 0;
  if (master < 0)
    return master;
  if (!alias && !master)
    return 0;
  struct req r;
  setlink(&r, index);
  if (alias)
    put_str(&r, IFLA_IFALIAS, alias);
  if (master)
    put_u32(&r, IFLA_MASTER, (uint32_t)master);
  return talk(&r, NULL, NULL);
}

/* The bridge's own RTM_SETLINK (family AF_BRIDGE) sets port options. It
 * finds the link by ifindex only, and works only on a port (EOPNOTSUPP on a
 * link without a master). IFLA_PROTINFO must carry NLA_F_NESTED: without
 * it, the kernel reads the attribute as the old single u8 port state (and
 * this one's first byte is no state: EINVAL). */
static int set_hairpin(int index)
{
  struct req r;
  setlink(&r, index);
  ((struct ifinfomsg *)NLMSG_DATA(&r.h))->ifi_family = AF_BRIDGE;
  struct nlattr *port = nest(&r, IFLA_PROTINFO);
  put_u8(&r, IFLA_BRPORT_MODE, BRIDGE_MODE_HAIRPIN);
  finish(&r, port);
  return talk(&r, NULL, NULL);
}

int nl_veth_create(const struct nl_veth *v)
{
  if (bad_name(v->host) || bad_name(v->peer) || v->pid <= 0 || (v->bridge && bad_name(v->bridge)) || (v->hairpin && !v->bridge) ||
      (v->alias && (!*v->alias || strlen(v->alias) >= ALIAS_SIZE)))
    return -EINVAL;
  int err = veth_new(v);
  if (err < 0)
    return err;
  int index = link_index(v->host);
  err = index < 0 ? index : veth_host_end(index, v->alias, v->bridge);
  if (!err && v->hairpin)
    err = set_hairpin(index);
  if (!err)
    err = link_up(index);
  if (err < 0)
    nl_link_del(v->host, NULL); /* takes the peer with it */
  return err;
}

/* ---- text ------------------------------------------------------------------- */

int nl_parse_ip(const char *text, struct nl_addr *out)
{
  memset(out, 0, sizeof *out);
  out->family = strchr(text, ':') ? AF_INET6 : AF_INET;
  out->prefix = (unsigned)nl_addr_size(out->family) * 8;
  return inet_pton(out->family, text, out->bytes) == 1 ? 0 : -EINVAL;
}

int nl_parse_cidr(const char *text, struct nl_addr *out)
{
  const char *slash = strchr(text, '/');
  char ip[INET6_ADDRSTRLEN];
  if (!slash || (size_t)(slash - text) >= sizeof ip)
    return -EINVAL;
  memcpy(ip, text, (size_t)(slash - text));
  ip[slash - text] = 0;
  if (nl_parse_ip(ip, out) < 0)
    return -EINVAL;
  /* digits only: strtoul would take a sign or leading blanks */
  const char *p = slash + 1;
  if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3)
    return -EINVAL;
  unsigned prefix = (unsigned)strtoul(p, NULL, 10);
  if (prefix > out->prefix)
    return -EINVAL;
  out->prefix = prefix;
  return 0;
}

static int hex_digit(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int nl_parse_mac(const char *text, uint8_t mac[6])
{
  for (int i = 0; i < 6; i++, text += 3) {
    int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
    if (lo < 0 || text[2] != (i < 5 ? ':' : 0))
      return -EINVAL;
    mac[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
