import { type Spec, joinOf, namespaceOrder } from '../spec.ts';
import type { JoinableNamespace } from '../../plan/namespaces.ts';
import type { Emitter } from './emit.ts';

/**
 * The init is cloned into every namespace but the cgroup one, which it
 * unshares itself once the executor has moved it into its cgroup: a cgroup
 * namespace's root is the cgroup its creator was in at that moment.
 * Namespaces joined by path are entered instead (ns.join): a user and a pid
 * namespace right after the clone, because ctc-init's monitor enters them
 * before cloning, in that order: the namespaces the clone makes are then
 * owned by the joined user namespace, and setns into a pid namespace applies
 * to children only (the init is born in it).
 */
export function lowerClone(spec: Spec, out: Emitter): void {
  const ns = namespaceOrder.filter((n) => spec.namespaces.includes(n) && n !== 'cgroup' && joinOf(spec, n) === undefined);
  out.emit('ns.clone', { ns }, 'namespaces');
  lowerJoin(spec, out, 'user');
  lowerJoin(spec, out, 'pid');
}

/** The uts, ipc and time joins before anything is mounted (an mqueue is its ipc namespace's). */
export function lowerJoins(spec: Spec, out: Emitter): void {
  lowerJoin(spec, out, 'uts');
  lowerJoin(spec, out, 'ipc');
  lowerJoin(spec, out, 'time');
}

function lowerJoin(spec: Spec, out: Emitter, ns: JoinableNamespace): void {
  const path = spec.namespaces.includes(ns) ? joinOf(spec, ns) : undefined;
  const i = spec.namespaces.indexOf(ns);
  if (path !== undefined) out.emit('ns.join', { ns, path }, out.cause(`joins.${ns}`, `namespaces[${i}].path`, `namespaces[${i}]`));
}

export function lowerUnshare(spec: Spec, out: Emitter): void {
  // a cgroup namespace's root is the cgroup the init is in: after cgroup.join, either way
  if (joinOf(spec, 'cgroup') !== undefined) lowerJoin(spec, out, 'cgroup');
  else if (spec.namespaces.includes('cgroup')) out.emit('ns.unshare', { ns: ['cgroup'] }, 'namespaces');
  // Nothing mounted while the root is built may propagate back to the host: a
  // shared root is made shared only once it stands alone (lowerPivot). Until
  // then it is a slave, not private: an rshared bind of a host mount (the CRI's
  // Bidirectional volume) must still receive what the host mounts there later.
  const mode = spec.rootfsPropagation ?? 'rprivate';
  out.emit(
    'mount.propagation',
    { path: '/', mode: mode.endsWith('shared') ? 'rslave' : mode },
    spec.rootfsPropagation ? 'rootfsPropagation' : 'namespaces',
  );
}

/** After the clone (the maps need the init's pid); the init waits until they are written. */
export function lowerUserMap(spec: Spec, out: Emitter): void {
  // a joined user namespace has its maps already: they are written once, by its creator
  if (!spec.namespaces.includes('user') || joinOf(spec, 'user') !== undefined) return;
  // 'self' and 'subordinate' are looked up when the container starts: {self}, {subordinate}
  const lines = (maps: Spec['uidMappings']) =>
    maps.map((m) => `${m.containerID} ${typeof m.hostID === 'number' ? m.hostID : `{${m.hostID}}`} ${m.size}`);
  out.emit('user.map', { uid: lines(spec.uidMappings), gid: lines(spec.gidMappings) }, 'uidMappings');
}

/** The init's first step in a user namespace: root inside, so what it makes is owned by a mapped id. */
export function lowerUserRoot(spec: Spec, out: Emitter): void {
  if (spec.namespaces.includes('user')) out.emit('user.root', {}, 'uidMappings');
}
