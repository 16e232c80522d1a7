import { CtcError } from '../error.ts';
import { type Origins, type Spec, namespaceOrder, originOf } from '../spec.ts';

/** Namespaces that later issues bring; refused now rather than half done. */
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
    else if (notYet[ns]) errors.push(new CtcError('CT_NS_UNSUPPORTED', notYet[ns], { source: at }));
    seen.add(ns);
  });
  const need = (ns: string, why: string, path: string, hint = `add '${ns}' to namespaces`) => {
    if (!seen.has(ns)) errors.push(new CtcError('CT_NS_REQUIRED', `${why} needs the '${ns}' namespace`, { source: originOf(origins, path) ?? source, hint }));
  };
  // runc runs such a config in the host's mount namespace: it makes the host's
  // / a slave, mounts into the rootfs there and leaves the mounts behind.
  need('mount', 'a container root', 'rootfs', "add 'mount' to namespaces: ctc does not mount a container's root and mounts in the host's mount namespace");
  if (spec.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(spec.hostname)) {
    errors.push(new CtcError('CT_SHAPE', `hostname '${spec.hostname}' must be 1-64 letters, digits, '.' or '-'`, { source: originOf(origins, 'hostname') }));
  }
  if (spec.hostname !== undefined) need('uts', 'setting the hostname', 'hostname');
  if (spec.domainname !== undefined) need('uts', 'setting the domain name', 'domainname');
  // An mqueue mount needs no ipc namespace: without one it shows the host's
  // queues, as under runc (Kubernetes' hostIPC pods ask for that).
  return errors;
}
