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
  const need = (ns: string, why: string, path: string) => {
    if (!seen.has(ns)) {
      errors.push(new CtcError('CT_NS_REQUIRED', `${why} needs the '${ns}' namespace`, { source: originOf(origins, path) ?? source, hint: `add '${ns}' to namespaces` }));
    }
  };
  need('mount', 'a container root', 'rootfs');
  if (spec.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(spec.hostname)) {
    errors.push(new CtcError('CT_SHAPE', `hostname '${spec.hostname}' must be 1-64 letters, digits, '.' or '-'`, { source: originOf(origins, 'hostname') }));
  }
  if (spec.hostname !== undefined) need('uts', 'setting the hostname', 'hostname');
  if (spec.domainname !== undefined) need('uts', 'setting the domain name', 'domainname');
  spec.mounts.forEach((m, i) => {
    if (m.type === 'mqueue') need('ipc', `mounting mqueue at ${m.destination}`, `mounts[${i}]`);
  });
  return errors;
}
