// Namespaces as plans name them (`ns.join`): the compiler checks a join
// against this list, and the executor checks it again before the first step.

/**
 * Namespaces a container can enter by path, in the order the init enters
 * them: user, then pid (ctc-init's monitor joins both before the clone: the
 * namespaces made at the clone are then owned by the joined user namespace,
 * and a pid namespace applies to children only), cgroup after the executor
 * has moved the init into its cgroup. Not mount: the container's root is
 * built in a mount namespace of its own (pivot_root in a shared one would
 * move the root of every process in it).
 */
export const joinableNamespaces = ['user', 'pid', 'uts', 'ipc', 'time', 'network', 'cgroup'] as const;
export type JoinableNamespace = (typeof joinableNamespaces)[number];
