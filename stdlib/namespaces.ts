import type { Namespace } from './types.ts';

/** What a container gets when it names no namespaces (runc's default set). */
export const defaultNamespaces: readonly Namespace[] = ['mount', 'uts', 'ipc', 'pid', 'network', 'cgroup'];
