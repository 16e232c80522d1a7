import { afterExecOf } from '../../../plan/after-exec.ts';
import { defineRule, firstOf } from '../rule.ts';

/**
 * Capabilities that reach past the container: load modules, trace or read any
 * process, reconfigure the network, mount, change the clock, bypass file
 * permissions on the host's files. runc's and docker's defaults hold none.
 */
export const privilegedCapabilities: readonly string[] = [
  'CAP_SYS_ADMIN',
  'CAP_SYS_MODULE',
  'CAP_SYS_PTRACE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_BOOT',
  'CAP_SYS_TIME',
  'CAP_SYS_RESOURCE',
  'CAP_NET_ADMIN',
  'CAP_DAC_READ_SEARCH',
  'CAP_LINUX_IMMUTABLE',
  'CAP_IPC_OWNER',
  'CAP_SYSLOG',
  'CAP_MAC_ADMIN',
  'CAP_MAC_OVERRIDE',
  'CAP_AUDIT_CONTROL',
  'CAP_BPF',
  'CAP_PERFMON',
  'CAP_CHECKPOINT_RESTORE',
];

export const noPrivilegedCapabilities = defineRule({
  id: 'no-privileged-capabilities',
  description:
    'the process holds no capability that reaches past the container (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_NET_ADMIN, …)',
  options: {
    allow: { type: 'strings', default: [], doc: 'capabilities accepted anyway, e.g. ["CAP_NET_ADMIN"]' },
    deny: { type: 'strings', default: privilegedCapabilities, doc: 'the capabilities this rule refuses' },
  },
  *check(plan, { allow, deny }) {
    const refused = (cap: string) => deny.includes(cap) && !allow.includes(cap);
    const caps = firstOf(plan, 'proc.caps');
    const bounding = firstOf(plan, 'proc.bounding');
    if (!caps && !bounding) {
      const user = firstOf(plan, 'proc.user');
      yield {
        message: 'the process sets no capabilities: it keeps every capability of the user it runs as (all of them for root)',
        step: user,
      };
      return;
    }
    // What the process holds once it has exec'd its program, not what ctc-init
    // sets before: a non-root process keeps only its ambient capabilities.
    const after = afterExecOf(plan.steps);
    const held = new Set(
      after
        ? [...after.permitted, ...after.effective, ...after.ambient]
        : [...(caps?.args.permitted ?? []), ...(caps?.args.effective ?? [])],
    );
    for (const cap of held) if (refused(cap)) yield { message: `the process holds ${cap} after its exec`, step: caps };
    // A capability left in the bounding set can still be gained through a
    // file capability or a setuid-root program, unless no_new_privs is set.
    if (firstOf(plan, 'proc.no-new-privs')) return;
    for (const cap of bounding?.args.caps ?? []) {
      if (refused(cap) && !held.has(cap))
        yield {
          message: `${cap} stays in the bounding set, so a setuid-root program or one with that file capability gains it (no_new_privs is not set)`,
          step: bounding,
        };
    }
  },
});
