// A container on a bridge, as `docker run -p 8080:80` gives one: a veth pair
// whose host end is attached to the bridge ctcbr0 (made if missing, with the
// gateway's addresses), IPv4 and IPv6 addresses with default routes, a
// generated /etc/hosts and /etc/resolv.conf, and port 8080 of the host
// forwarded to port 80 inside. It prints what it sees of its network.
//
// It changes the network of wherever it runs: try it in a namespace of your
// own (ip netns add try; ip netns exec try ctc run bridge.plan).
import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  hostname: 'web',
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  network: {
    interfaces: [
      {
        type: 'veth',
        name: 'eth0',
        bridge: { name: 'ctcbr0', create: true, addresses: ['10.88.0.1/24', 'fd00:88::1/64'] },
        addresses: ['10.88.0.2/24', 'fd00:88::2/64'],
        gateway: '10.88.0.1',
        ipv6Gateway: 'fd00:88::1',
        mac: '02:42:0a:58:00:02',
        mtu: 1400,
        hairpin: true,
      },
    ],
    dns: { servers: ['10.88.0.1'], search: ['ctc.test'] },
    ports: [{ host: 8080, container: 80 }],
  },
  process: {
    args: ['/bin/sh', '-c', 'ip -br addr; ip route; ip -6 route; cat /etc/resolv.conf'],
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
  },
});
