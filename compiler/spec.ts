// The one normalized model of a container. Every frontend produces a Spec plus
// its Origins; checks and lowering read nothing else.

import type { Namespace, MountType } from '../stdlib/types.ts';

export interface SpecMount {
  destination: string;
  type: MountType;
  source: string;
  options: string[];
}

export interface SpecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** the name it was given by, if any */
  name?: string;
}

export type SpecRootfs =
  | { kind: 'dir'; path: string; readonly: boolean }
  | { kind: 'host'; mirror: string[]; dirs: Record<string, number>; files: Record<string, string> };

export interface SpecResources {
  memory?: { limit?: number; swap?: number };
  pids?: { limit: number };
  cpu?: { shares?: number; quota?: number; period?: number };
}

export interface Spec {
  rootfs: SpecRootfs;
  process: { args: string[]; env: string[]; cwd: string; user: SpecUser };
  hostname?: string;
  namespaces: Namespace[];
  mounts: SpecMount[];
  resources: SpecResources;
  cgroupsPath: string;
}

/**
 * Where each part of a spec was written: spec path (`mounts[2].destination`,
 * `process.args`) → `file:line:col`, relative to the entry source's folder.
 * The path '' is the container itself.
 */
export type Origins = Map<string, string>;

/** The origin of a path, or of the nearest enclosing part that has one. */
export function originOf(origins: Origins, path: string): string | undefined {
  for (let p = path; ; p = parentPath(p)) {
    const o = origins.get(p);
    if (o !== undefined || p === '') return o;
  }
}

function parentPath(p: string): string {
  const i = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
  return i <= 0 ? '' : p.slice(0, i);
}

/** The environment a process gets when its source gives none. */
export const defaultEnv: readonly string[] = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** Namespaces in the order they are listed in plans. */
export const namespaceOrder: readonly Namespace[] = ['mount', 'uts', 'ipc', 'pid', 'network', 'cgroup', 'user', 'time'];
