// The OCI runtime config ctc writes (`ctc spec`, `ctc build --emit-bundle`):
// the part of the runtime-spec's shape that ctc fills, and its printing.

/** The runtime-spec version of the configs ctc writes. */
export const OCI_VERSION = '1.2.0';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  flags?: string[];
  syscalls: {
    names: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number | bigint; valueTwo?: number | bigint; op: string }[];
  }[];
}

export interface OciConfig {
  ociVersion: string;
  process: {
    terminal?: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
    args: string[];
    env?: string[];
    cwd: string;
    capabilities?: Partial<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>>;
    /** -1 is RLIM_INFINITY, printed as 18446744073709551615 */
    rlimits?: { type: string; hard: number; soft: number }[];
    noNewPrivileges?: boolean;
    oomScoreAdj?: number;
    apparmorProfile?: string;
    selinuxLabel?: string;
  };
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  hooks?: Partial<Record<string, { path: string; args?: string[]; env?: string[]; timeout?: number }[]>>;
  linux: {
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    resources?: {
      devices?: OciDeviceRule[];
      memory?: { limit?: number; swap?: number };
      pids?: { limit: number };
      cpu?: { shares?: number; quota?: number; period?: number };
    };
    cgroupsPath?: string;
    namespaces: { type: string; path?: string }[];
    devices?: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
    rootfsPropagation?: string;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    sysctl?: Record<string, string>;
    mountLabel?: string;
    seccomp?: OciSeccomp;
  };
}

/** Marks a bigint while printing; no real string holds a NUL. */
const BIG = '\u0000big:';

/**
 * Tab-indented JSON, as runc writes it. An rlimit of -1 becomes
 * 18446744073709551615 (RLIM_INFINITY, a uint64 to the runtime); bigints
 * (seccomp argument values) print as exact numbers, which a JavaScript
 * number cannot hold.
 */
export function printConfig(config: OciConfig): string {
  const rlimit = (n: number): number | bigint => (n === -1 ? 2n ** 64n - 1n : n);
  const rlimits = config.process.rlimits?.map((r) => ({ ...r, hard: rlimit(r.hard), soft: rlimit(r.soft) }));
  const copy = rlimits ? { ...config, process: { ...config.process, rlimits } } : config;
  const json = JSON.stringify(copy, (_k, v) => (typeof v === 'bigint' ? `${BIG}${v}` : v), '\t');
  // JSON.stringify writes the NUL as the six characters \u0000.
  return json.replace(/"\\u0000big:(\d+)"/g, '$1') + '\n';
}
