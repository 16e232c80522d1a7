// Writing a user namespace's maps (user.map), and idmapped binds (mount.idmap). Root writes them directly. A
// user who is not root may write one line mapping itself; anything more goes
// through newuidmap/newgidmap (Debian's uidmap), setuid helpers that check
// /etc/subuid and /etc/subgid. {self} and {subordinate} in a plan's lines are
// resolved here, for the user running ctc.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { CtcError } from '../../common/error.ts';
import { type Step, list, str } from '../../plan/steps.ts';
import { helperMode } from '../native-bridge/helper.ts';

type Kind = 'uid' | 'gid';
const subFile = { uid: '/etc/subuid', gid: '/etc/subgid' } as const;
const helper = { uid: 'newuidmap', gid: 'newgidmap' } as const;

interface Range {
  start: number;
  count: number;
}

/** The user's ranges in /etc/subuid (or subgid): lines NAME:START:COUNT or UID:START:COUNT. */
function subordinateRanges(kind: Kind, user: { name: string; id: number }): { mine: Range[]; all: Range[] } {
  let text = '';
  try {
    text = readFileSync(subFile[kind], 'utf8');
  } catch {
    // no file: no ranges
  }
  const mine: Range[] = [];
  const all: Range[] = [];
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (!who || start === undefined || count === undefined) continue;
    const r = { start: Number(start), count: Number(count) };
    all.push(r);
    if (who === user.name || who === String(user.id)) mine.push(r);
  }
  return { mine, all };
}

function subordinateStart(kind: Kind, size: number): number {
  const info = userInfo();
  const user = { name: info.username, id: kind === 'uid' ? info.uid : info.gid };
  const { mine, all } = subordinateRanges(kind, user);
  const fit = mine.find((r) => r.count >= size);
  if (fit) return fit.start;
  const free = Math.max(100000, ...all.map((r) => r.start + r.count));
  throw new CtcError(
    'CT_USERNS_SUBID',
    `${info.username} has no range of ${size} subordinate ${kind}s in ${subFile[kind]}${mine.length ? ` (only ${mine.map((r) => r.count).join(', ')})` : ''}`,
    {
      hint: `add the line "${info.username}:${free}:65536" to ${subFile[kind]} (as root; usermod --add-sub${kind}s ${free}-${free + 65535} ${info.username} does it)`,
    },
  );
}

/** "0 {self} 1" → "0 1000 1"; "1 {subordinate} 65535" → "1 165536 65535". */
export function resolveMapLines(kind: Kind, lines: string[]): string[] {
  const self = kind === 'uid' ? process.getuid!() : process.getgid!();
  return lines.map((line) => {
    const [c, h, size] = line.split(' ');
    const host = h === '{self}' ? self : h === '{subordinate}' ? subordinateStart(kind, Number(size)) : Number(h);
    return `${c} ${host} ${size}`;
  });
}

/** Writes /proc/PID/uid_map and gid_map (setgroups denied first where the kernel asks for it). */
export function writeMaps(pid: number, uidLines: string[], gidLines: string[]): void {
  const uids = resolveMapLines('uid', uidLines);
  const gids = resolveMapLines('gid', gidLines);
  if (process.geteuid!() === 0) {
    writeFileSync(`/proc/${pid}/uid_map`, uids.join('\n') + '\n');
    writeFileSync(`/proc/${pid}/gid_map`, gids.join('\n') + '\n');
    return;
  }
  writeUnprivileged(pid, 'uid', uids);
  writeUnprivileged(pid, 'gid', gids);
}

function writeUnprivileged(pid: number, kind: Kind, lines: string[]): void {
  const self = String(kind === 'uid' ? process.getuid!() : process.getgid!());
  const onlySelf = lines.length === 1 && lines[0].split(' ')[1] === self && lines[0].split(' ')[2] === '1';
  if (onlySelf) {
    // the kernel lets a user map itself alone; for a gid map only once setgroups is denied
    if (kind === 'gid') writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/${kind}_map`, lines[0] + '\n');
    return;
  }
  try {
    execFileSync(helper[kind], [String(pid), ...lines.flatMap((l) => l.split(' '))], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') {
      throw new CtcError('CT_USERNS_SUBID', `mapping more than yourself needs ${helper[kind]}, which is not installed`, {
        hint: 'apt-get install uidmap',
      });
    }
    throw Object.assign(new Error(`${helper[kind]}: ${String(err.stderr ?? '').trim()}`), { code: 'EPERM' });
  }
}

/** MOUNT_ATTR_* bits of a step's flags; a bind is recursive unless it says 'bind'. */
const MOUNT_ATTR: Readonly<Record<string, number>> = { ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8 };

export function idmapMount(step: Step, pid: number): void {
  const flags = list(step, 'flags');
  const attrs = flags.reduce((a, f) => a | (MOUNT_ATTR[f] ?? 0), 0);
  const args = [
    'idmap-mount',
    String(pid),
    str(step, 'root'),
    str(step, 'src'),
    str(step, 'dst'),
    String(attrs),
    flags.includes('bind') ? '0' : '1',
  ];
  helperMode(args);
}
