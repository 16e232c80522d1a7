// `ctc checkpoint` and `ctc restore`, with runc's flags: criu saves a
// running container to image files and brings it back
// (executor/container/checkpoint.ts). Silent on success, as runc is.

import { resolve } from 'node:path';
import { CtcError } from '../common/error.ts';
import type { CriuOptions } from '../executor/container/checkpoint.ts';
import { type Globals, parseCommand } from './args.ts';
import { bundlePlan } from './bundle.ts';
import { factory } from './lifecycle.ts';

const bool = { type: 'boolean' } as const;
const string = { type: 'string' } as const;

/** The flags runc's checkpoint and restore share. */
const criuFlags = {
  'image-path': string,
  'work-path': string,
  'tcp-established': bool,
  'ext-unix-sk': bool,
  'shell-job': bool,
  'file-locks': bool,
  'manage-cgroups-mode': string,
  'empty-ns': { type: 'string', multiple: true },
  'auto-dedup': bool,
  'lazy-pages': bool,
} as const;

/**
 * runc's options ctc cannot honour yet: refused, never ignored. Accepted
 * as they are: --manage-cgroups-mode soft (criu's default, which ctc asks
 * for), --status-fd -1 (none), and restore's --no-subreaper (no ctc process
 * stays to be one) and --no-pivot (criu rebuilds the mounts as they were).
 */
function refuseNotYet(values: Record<string, unknown>): void {
  const given = Object.keys(values).filter((k) => values[k] !== undefined && values[k] !== false);
  const accepted = (k: string) =>
    (k === 'manage-cgroups-mode' && values[k] === 'soft') ||
    (k === 'status-fd' && values[k] === '-1') ||
    k === 'no-subreaper' ||
    k === 'no-pivot';
  const refused = given.filter((k) => NOT_YET.includes(k) && !accepted(k));
  if (refused.length) throw new CtcError('CT_NOT_YET', `${refused.map((k) => `--${k}`).join(', ')}: not supported yet`);
}

const NOT_YET = [
  'manage-cgroups-mode',
  'empty-ns',
  'auto-dedup',
  'lazy-pages',
  'pre-dump',
  'parent-path',
  'page-server',
  'status-fd',
  'tcp-skip-in-flight',
  'link-remap',
  'console-socket',
  'lsm-profile',
  'lsm-mount-context',
];

function oneId(command: string, positionals: string[]): string {
  if (positionals.length !== 1)
    throw new CtcError('CT_USAGE', `${command} takes one container id`, { hint: `usage: ctc ${command} --image-path DIR ID` });
  return positionals[0];
}

/** runc's default image path is ./checkpoint. */
function criuOptions(v: {
  'image-path'?: string;
  'work-path'?: string;
  'tcp-established'?: boolean;
  'ext-unix-sk'?: boolean;
  'shell-job'?: boolean;
  'file-locks'?: boolean;
}): CriuOptions {
  return {
    imagePath: resolve(v['image-path'] ?? 'checkpoint'),
    workPath: v['work-path'] === undefined ? undefined : resolve(v['work-path']),
    tcpEstablished: v['tcp-established'],
    extUnixSk: v['ext-unix-sk'],
    shellJob: v['shell-job'],
    fileLocks: v['file-locks'],
  };
}

export async function checkpointCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('checkpoint', args, {
    ...criuFlags,
    'leave-running': bool,
    'pre-dump': bool,
    'parent-path': string,
    'page-server': string,
    'status-fd': string,
    'tcp-skip-in-flight': bool,
    'link-remap': bool,
  });
  const id = oneId('checkpoint', positionals);
  refuseNotYet(values);
  const { checkpoint } = await import('../executor/container/checkpoint.ts');
  await checkpoint(factory(g).load(id), { ...criuOptions(values), leaveRunning: values['leave-running'] });
  return 0;
}

export async function restoreCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('restore', args, {
    ...criuFlags,
    bundle: { type: 'string', short: 'b' },
    detach: { type: 'boolean', short: 'd' },
    'pid-file': string,
    'console-socket': string,
    'no-subreaper': bool,
    'no-pivot': bool,
    'lsm-profile': string,
    'lsm-mount-context': string,
  });
  const id = oneId('restore', positionals);
  refuseNotYet(values);
  if (!values.detach) {
    throw new CtcError('CT_NOT_YET', 'ctc restore runs detached only: give --detach (-d)', {
      hint: 'criu leaves the restored container to the caller (or init); no ctc process stays to wait for it and report its exit',
    });
  }
  const { plan, text, bundle } = await bundlePlan(values.bundle, g);
  const { restore } = await import('../executor/container/checkpoint.ts');
  await restore(factory(g), id, {
    ...criuOptions(values),
    plan,
    planText: text,
    bundle,
    pidFile: values['pid-file'] && resolve(values['pid-file']),
  });
  return 0;
}
