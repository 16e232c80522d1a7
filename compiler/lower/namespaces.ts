import { namespaceOrder, type Spec } from '../spec.ts';
import type { Emitter } from './emit.ts';

/**
 * The init is cloned into every namespace but the cgroup one, which it
 * unshares itself once the executor has moved it into its cgroup: a cgroup
 * namespace's root is the cgroup its creator was in at that moment.
 */
export function lowerClone(spec: Spec, out: Emitter): void {
  // a network namespace joined by path is entered by the init (ns.join), not made
  const joined = (n: string) => n === 'network' && spec.network.join !== undefined;
  const ns = namespaceOrder.filter((n) => spec.namespaces.includes(n) && n !== 'cgroup' && !joined(n));
  out.emit('ns.clone', { ns }, 'namespaces');
}

export function lowerUnshare(spec: Spec, out: Emitter): void {
  if (spec.namespaces.includes('cgroup')) out.emit('ns.unshare', { ns: ['cgroup'] }, 'namespaces');
  // Nothing mounted while the root is built may propagate back to the host: a
  // shared root is made shared only once it stands alone (lowerPivot).
  const mode = spec.rootfsPropagation ?? 'rprivate';
  out.emit('mount.propagation', { path: '/', mode: mode.endsWith('shared') ? 'rprivate' : mode }, spec.rootfsPropagation ? 'rootfsPropagation' : 'namespaces');
}

/** After the clone (the maps need the init's pid); the init waits until they are written. */
export function lowerUserMap(spec: Spec, out: Emitter): void {
  if (!spec.namespaces.includes('user')) return;
  // 'self' and 'subordinate' are looked up when the container starts: {self}, {subordinate}
  const lines = (maps: Spec['uidMappings']) => maps.map((m) => `${m.containerID} ${typeof m.hostID === 'number' ? m.hostID : `{${m.hostID}}`} ${m.size}`);
  out.emit('user.map', { uid: lines(spec.uidMappings), gid: lines(spec.gidMappings) }, 'uidMappings');
}

/** The init's first step in a user namespace: root inside, so what it makes is owned by a mapped id. */
export function lowerUserRoot(spec: Spec, out: Emitter): void {
  if (spec.namespaces.includes('user')) out.emit('user.root', {}, 'uidMappings');
}
