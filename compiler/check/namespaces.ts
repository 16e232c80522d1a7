import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, joinOf, namespaceOrder, originOf } from '../spec.ts';
import { joinableNamespaces } from '../../plan/namespaces.ts';

/** Namespaces that later issues bring; refused now rather than half done (an existing one can be joined). */
const notYet: Record<string, string> = {
  time: 'time namespaces are not supported yet',
};

export function checkNamespaces(spec: Spec, origins: Origins): CtcError[] {
  const errors: CtcError[] = [];
  const source = originOf(origins, 'namespaces');
  const seen = new Set<string>();
  spec.namespaces.forEach((ns, i) => {
    const at = originOf(origins, `namespaces[${i}]`);
    if (!namespaceOrder.includes(ns)) errors.push(new CtcError('CT_SHAPE', `namespaces[${i}]: unknown namespace '${ns}'`, { source: at }));
    else if (seen.has(ns)) errors.push(new CtcError('CT_NS_DUPLICATE', `namespace '${ns}' is listed twice`, { source: at }));
    else if (notYet[ns] && joinOf(spec, ns) === undefined) errors.push(new CtcError('CT_NS_UNSUPPORTED', notYet[ns], { source: at }));
    seen.add(ns);
  });
  const need = (ns: string, why: string, path: string, hint = `add '${ns}' to namespaces`) => {
    if (!seen.has(ns))
      errors.push(
        new CtcError('CT_NS_REQUIRED', `${why} needs the '${ns}' namespace`, { source: originOf(origins, path) ?? source, hint }),
      );
  };
  errors.push(...checkJoins(spec, origins));
  // runc runs such a config in the host's mount namespace: it makes the host's
  // / a slave, mounts into the rootfs there and leaves the mounts behind.
  need(
    'mount',
    'a container root',
    'rootfs',
    "add 'mount' to namespaces: ctc does not mount a container's root and mounts in the host's mount namespace",
  );
  if (spec.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(spec.hostname)) {
    errors.push(
      new CtcError('CT_SHAPE', `hostname '${spec.hostname}' must be 1-64 letters, digits, '.' or '-'`, {
        source: originOf(origins, 'hostname'),
      }),
    );
  }
  if (spec.hostname !== undefined) need('uts', 'setting the hostname', 'hostname');
  if (spec.domainname !== undefined) need('uts', 'setting the domain name', 'domainname');
  // An mqueue mount needs no ipc namespace: without one it shows the host's
  // queues, as under runc (Kubernetes' hostIPC pods ask for that).
  return errors;
}

/** The file each joinable namespace has under /proc/PID/ns (pid_for_children is a pid namespace too). */
const procNames: Record<string, string[]> = {
  user: ['user'],
  pid: ['pid', 'pid_for_children'],
  uts: ['uts'],
  ipc: ['ipc'],
  time: ['time', 'time_for_children'],
  network: ['net'],
  cgroup: ['cgroup'],
};

/**
 * A join is checked as far as its source can be: the namespace is listed (a
 * namespace is either made or joined, never both: listing it twice is
 * CT_NS_DUPLICATE), the path is absolute, and a /proc/PID/ns/NAME path names
 * a namespace of the same type. Whether it exists is known only at run time.
 */
function checkJoins(spec: Spec, origins: Origins): CtcError[] {
  const joined = Object.keys(spec.joins ?? {}).filter((ns) => !spec.namespaces.includes(ns as never));
  const errors = joined.map(
    (ns) =>
      new CtcError('CT_NS_REQUIRED', `joining a ${ns} namespace by path needs '${ns}' in namespaces`, {
        source: originOf(origins, `joins.${ns}`),
        hint: `add '${ns}' to namespaces`,
      }),
  );
  spec.namespaces.forEach((ns, i) => {
    const path = joinOf(spec, ns);
    if (path === undefined) return;
    const source = originOf(origins, `namespaces[${i}].path`) ?? originOf(origins, ns === 'network' ? 'network.join' : `joins.${ns}`);
    const file = /^\/proc\/[^/]+\/(?:task\/\d+\/)?ns\/([^/]+)$/.exec(path)?.[1];
    if (!(joinableNamespaces as readonly string[]).includes(ns)) {
      errors.push(
        new CtcError('CT_NS_UNSUPPORTED', `a ${ns} namespace cannot be joined by path`, {
          source,
          hint: `ctc joins ${joinableNamespaces.join(', ')} namespaces`,
        }),
      );
    } else if (!path.startsWith('/')) {
      // network.join's is checked with the rest of the network (check/network.ts)
      if (ns !== 'network')
        errors.push(new CtcError('CT_PATH_RELATIVE', `the ${ns} namespace to join, '${path}', must be an absolute path`, { source }));
    } else if (file !== undefined && !procNames[ns].includes(file)) {
      errors.push(
        new CtcError('CT_NS_JOIN', `${path} is a process's ${file} namespace, not its ${ns} namespace`, {
          source,
          hint: `join /proc/PID/ns/${procNames[ns][0]}`,
        }),
      );
    }
  });
  return errors;
}
