// The network benchmark's container for ctc, as a .ct.ts: the same container
// as the bench's bundle (runc spec's config.json, read here: hostname,
// namespaces, mounts, masked and read-only paths, capabilities, rlimits, no
// seccomp) plus what an OCI config cannot say and runc/crun get from ip(8)
// in the bench: a veth whose host end is on the bench's bridge, the
// container's address and default route. bench/run.sh builds it into a plan.
//
// Usage: node net-source.mjs CONFIG.json ROOTFS OUT.ct.ts BRIDGE HOSTVETH ADDR/LEN GATEWAY ARG...
// Plain Node, no dependencies.

import { readFileSync, writeFileSync } from 'node:fs';

const [configPath, rootfs, out, bridge, hostName, address, gateway, ...args] = process.argv.slice(2);
const c = JSON.parse(readFileSync(configPath, 'utf8'));
const caps = c.process.capabilities ?? {};

const def = {
  hostname: c.hostname,
  rootfs: '@ROOTFS@',
  namespaces: c.linux.namespaces.map((n) => n.type),
  mounts: c.mounts,
  maskedPaths: c.linux.maskedPaths ?? [],
  readonlyPaths: c.linux.readonlyPaths ?? [],
  network: { interfaces: [{ type: 'veth', name: 'eth0', hostName, bridge, addresses: [address], gateway }] },
  process: {
    args,
    env: c.process.env,
    cwd: c.process.cwd,
    // runc spec's ambient set is left out, as ctc does for the bundle (README: CT_CAP_AMBIENT)
    capabilities: { bounding: caps.bounding ?? [], effective: caps.effective ?? [], permitted: caps.permitted ?? [] },
    rlimits: c.process.rlimits ?? [],
    noNewPrivileges: c.process.noNewPrivileges ?? false,
    seccomp: 'unconfined', // runc spec's config has no seccomp either
  },
};

const literal = JSON.stringify(def, null, 2).replace(
  '"@ROOTFS@"',
  `dirRootfs(${JSON.stringify(rootfs)}, { readonly: ${c.root.readonly === true} })`,
);
writeFileSync(
  out,
  `// made by bench/net-source.mjs from ${configPath}\nimport { container, dirRootfs } from 'ctc';\n\nexport default container(${literal});\n`,
);
