// The rules ctc ships, and the set `ctc lint` applies when no config names any.

import type { LintRule, Severity } from '../rule.ts';
import { noPrivilegedCapabilities } from './capabilities.ts';
import { limitsRequired } from './limits.ts';
import { noRwHostMounts, readonlyRootfs } from './mounts.ts';
import { userNamespaceRequired } from './namespaces.ts';
import { seccompRequired } from './seccomp.ts';

export const builtinRules: readonly LintRule[] = [
  noPrivilegedCapabilities,
  seccompRequired,
  noRwHostMounts,
  readonlyRootfs,
  userNamespaceRequired,
  limitsRequired,
];

/**
 * Without a config: what widens the container towards the host is an error,
 * missing limits a warning. Left out: readonly-rootfs (most roots are written
 * to) and user-namespace-required (most containers run without one).
 */
export const defaultRuleLevels: Readonly<Record<string, Severity>> = {
  'no-privileged-capabilities': 'error',
  'seccomp-required': 'error',
  'no-rw-host-mounts': 'error',
  'limits-required': 'warning',
};
