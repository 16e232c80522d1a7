// The one error type of ctc. Every failure a user can cause is a CtcError with
// a code from this union; anything else reaching the CLI is a bug in ctc.

export type ErrorCode =
  // sources and the frontend
  | 'CT_SOURCE_READ' // the source file cannot be read
  | 'CT_SOURCE_KIND' // no frontend for this file name
  | 'CT_TYPE' // the TypeScript checker rejected the module
  | 'CT_IMPORT' // an import outside the stdlib and relative .ct.ts files
  | 'CT_EVAL' // the module threw while being evaluated
  | 'CT_NONDETERMINISTIC' // clock, randomness or similar used in a source
  | 'CT_EXPORT' // the module has no container as default export
  | 'CT_SYNTAX' // a .ct file does not lex or parse
  | 'CT_UNKNOWN_KEY' // a .ct file names a key its block does not have
  | 'CT_UNKNOWN_NAME' // a .ct file names a preset, import, capability, namespace… that does not exist
  | 'CT_SOURCE_ESCAPE' // a source, import or archive that resolves outside the project root, or into /proc, /sys, /dev
  | 'CT_SOURCE_LIMIT' // a source over the size limit, or not text (NUL bytes, invalid UTF-8)
  | 'CT_EVAL_LIMIT' // evaluating a source ran out of time or memory in its sandbox
  | 'CT_SANDBOX' // the sandbox that evaluates a source could not be made on this host
  | 'CT_NUL' // a NUL byte in an argument, env entry, path, hostname or annotation
  // checks
  | 'CT_SHAPE' // a value of the wrong shape reached the spec
  | 'CT_ROOTFS_RELATIVE'
  | 'CT_PATH_RELATIVE'
  | 'CT_PATH_ESCAPE'
  | 'CT_MOUNT_TYPE'
  | 'CT_MOUNT_OPTION'
  | 'CT_NS_DUPLICATE'
  | 'CT_NS_REQUIRED'
  | 'CT_NS_UNSUPPORTED'
  | 'CT_NS_JOIN'
  | 'CT_USER_UNKNOWN'
  | 'CT_LIMIT_RANGE'
  | 'CT_PROCESS_ARGS'
  | 'CT_CAP_UNKNOWN'
  | 'CT_CAP_AMBIENT'
  | 'CT_CAP_EXEC' // a warning: a capability set the kernel changes at execve (a non-root uid keeps only ambient ones)
  | 'CT_RLIMIT_HARD' // an rlimit above the hard limit ctc can set on this host (no CAP_SYS_RESOURCE)
  | 'CT_JOURNAL_CORRUPT'
  | 'CT_RLIMIT_UNKNOWN'
  | 'CT_DEVICE'
  | 'CT_SYSCALL_UNKNOWN' // a seccomp rule names a syscall that no architecture has
  | 'CT_SECCOMP_ARCH' // a seccomp architecture ctc cannot filter (it filters x86_64 and aarch64)
  | 'CT_NET_CONFLICT' // network settings that contradict each other or the namespaces
  | 'CT_NET_ADDRESS' // not an address, a CIDR or a host name
  | 'CT_NET_OVERLAP' // subnets of two interfaces overlap, or an address is used twice
  | 'CT_NET_GATEWAY' // a gateway outside the interface's subnets
  | 'CT_NET_IFNAME' // an interface name Linux refuses (over 15 bytes, '/', ':' …)
  | 'CT_NET_MAC'
  | 'CT_NET_ROUTE'
  | 'CT_NET_PORT'
  | 'CT_USERNS_MAP' // uid/gid mappings the kernel would refuse, missing, or without root inside
  | 'CT_USERNS_UNMAPPED' // a process or file id that the mappings leave out
  | 'CT_USERNS_MOUNT' // a mount the kernel refuses in a user namespace
  | 'CT_USERNS_SUBID' // no subordinate ids for the user (or no newuidmap) where the maps need them
  | 'CT_ROOTLESS_CGROUP' // rootless without a cgroup, and the plan sets limits
  | 'CT_HOOK' // a hook's timeout or environment that cannot be run
  | 'CT_SYSCTL' // a kernel parameter that is not namespaced, or not in the container's namespaces
  | 'CT_LSM_ABSENT' // an AppArmor/SELinux label on a host without that LSM
  | 'CT_OCI_UNSUPPORTED' // an OCI config field ctc does not implement yet
  | 'CT_OCI_VERSION'
  | 'CT_OCI_DEPRECATED' // a warning: an OCI field the spec deprecated and runc ignores, ignored too
  | 'CT_JSON' // config.json is not valid JSON
  | 'CT_NOT_YET' // a command or feature that a later issue brings
  // image archives (imageRootfs)
  | 'CT_IMAGE_FORMAT' // not an image archive ctc reads (OCI layout, docker save), a zstd layer, a missing blob, bad JSON
  | 'CT_IMAGE_DIGEST' // a blob's sha256 is not its digest, or the archive is not the image the plan names
  | 'CT_IMAGE_ESCAPE' // a layer entry that would land outside the rootfs (absolute, '..', through a symlink)
  // plans
  | 'CT_PLAN_READ'
  | 'CT_PLAN_SYNTAX'
  | 'CT_PLAN_DIGEST'
  | 'CT_PLAN_VERSION'
  | 'CT_PLAN_NONE'
  | 'CT_PLAN_AMBIGUOUS'
  | 'CT_PLAN_INVALID' // a plan (digest and all) whose steps the executor's own checks refuse
  | 'CT_PLAN_STALE' // ctc check: a committed plan is not what its source builds to now, or is missing
  | 'CT_PLAN_UNSIGNED' // ctc run with allowed signers: the plan has no PLAN.sig beside it
  | 'CT_PLAN_SIGNATURE' // ctc run with allowed signers: PLAN.sig does not verify over the plan's bytes, is for another namespace, or its key is not allowed
  | 'CT_ALLOWED_SIGNERS' // the allowed-signers file cannot be read, or a line of it does not parse
  | 'CT_SIGN_KEY' // ctc sign: the key is not an unencrypted OpenSSH private key of a type ctc signs with
  | 'CT_GIT' // ctc diff REV: git failed, or the source is not in a repository
  | 'CT_GIT_REVISION' // ctc diff REV: no such revision, or the source does not exist at it
  // running
  | 'CT_NOT_ROOT'
  | 'CT_HELPER_MISSING'
  | 'CT_STATE_EXISTS'
  | 'CT_CGROUP_EXISTS'
  | 'CT_INTERRUPTED'
  | 'CT_STEP_FAILED'
  | 'CT_EXEC_COMMAND' // exec's command is not in the container's root and PATH (exit 127), or cannot run (126)
  | 'CT_HOOK_FAILED' // a hook that stops the container exited non-zero, was killed, or ran out of time
  | 'CT_HELPER_PROTOCOL'
  | 'CT_CGROUP_LAYOUT'
  | 'CT_ROLLBACK'
  | 'CT_NOT_FOUND' // no container with that id
  | 'CT_BAD_STATE' // the container's status does not allow the operation
  | 'CT_NO_LOG' // ctc logs: the container has no log (not detached, or it has a terminal)
  | 'CT_ID' // an invalid container id
  | 'CT_STATE_UNSAFE' // a state root (or a dir in it) owned by another user, or that others can write
  // checkpoint and restore
  | 'CT_CRIU_MISSING' // criu is not installed (not in PATH)
  | 'CT_CRIU_UNSUPPORTED' // `criu check` says criu cannot work on this machine (kernel, criu release, privileges)
  | 'CT_CRIU_FAILED' // criu dump or restore itself failed: its log file's last errors are quoted
  | 'CT_CHECKPOINT' // an image dir ctc cannot restore from: no ctc-checkpoint.json, or one the bundle's plan does not match
  // ctc lint and ctc explain
  | 'CT_CONFIG' // the project's ctc config: unknown key, rule or option, a value of the wrong type, or unreadable
  | 'CT_CONFIG_UNSAFE' // a config file owned by another user, or writable by group or others (as git's safe.directory)
  | 'CT_LINT_PLUGIN' // a lint plugin cannot be loaded, or does not export rules
  | 'CT_LINT_RULE' // a lint rule threw while checking a plan
  | 'CT_PLAN_STEP' // ctc explain: the plan has no such step
  // command line and files ctc writes
  | 'CT_USAGE'
  | 'CT_EXISTS' // a file ctc would create is already there (runc spec: "File config.json exists")
  | 'CT_WRITE'; // a file or directory ctc writes (a bundle) cannot be written

export interface StepRef {
  n: number;
  kind: string;
  /** what the step acted on, for the message (a path, a name) */
  subject?: string;
}

export interface ErrorInit {
  step?: StepRef;
  /** file:line:col in a source, or a JSON path */
  source?: string;
  /** errno name, e.g. EPERM */
  errno?: string;
  hint?: string;
  /**
   * runc's own words for this failure ("container not running"), which
   * orchestrators match on (containerd's shim, podman): printed first.
   */
  runtime?: string;
  /** the exit status ctc ends with for this error, where it is not 1 (exec's 127 and 126, as docker's) */
  exit?: number;
}

export class CtcError extends Error {
  readonly code: ErrorCode;
  readonly step?: StepRef;
  readonly source?: string;
  readonly errno?: string;
  readonly hint?: string;
  readonly runtime?: string;
  readonly exit?: number;

  constructor(code: ErrorCode, message: string, init: ErrorInit = {}) {
    super(message);
    this.name = 'CtcError';
    this.code = code;
    Object.assign(this, init);
  }
}

/** Several errors found together (type errors, failed checks), in source order. */
export class CtcErrors extends Error {
  readonly errors: CtcError[];
  constructor(errors: CtcError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'CtcErrors';
    this.errors = errors;
  }
}

/** Throws the errors, if there are any. */
export function throwAll(errors: CtcError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new CtcErrors(errors);
}

export const isCtcError = (e: unknown): e is CtcError => e instanceof CtcError;

/** One line (plus a hint line) for people. */
export function formatError(e: CtcError, level: 'error' | 'warning' = 'error'): string {
  const where = e.source ? `${e.source}: ` : '';
  const step = e.step ? `step ${e.step.n} ${e.step.kind}${e.step.subject ? ` (${e.step.subject})` : ''}: ` : '';
  const errno = e.errno ? ` [${e.errno}]` : '';
  const hint = e.hint ? `\n  hint: ${visible(e.hint)}` : '';
  return `${where}${level} ${e.code}: ${visible(step + e.message)}${errno}${hint}`;
}

/**
 * Messages quote what a source said: a hostile file must not put terminal
 * escapes into ctc's output. Control characters but newline and tab are
 * shown as \xNN.
 */
export const visible = (text: string) =>
  text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The same facts for --log-format json and machines. */
export function errorJson(e: CtcError): Record<string, unknown> {
  const { code, message, step, source, errno, hint } = e;
  return { code, message, step, source, errno, hint };
}
