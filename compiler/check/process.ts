import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, type SpecUser, originOf } from '../spec.ts';
import { containerPath } from './paths.ts';

export function checkProcess(spec: Spec, origins: Origins): CtcError[] {
  const p = spec.process;
  const errors: (CtcError | undefined)[] = [];
  if (p.args.length === 0 || p.args[0] === '') {
    errors.push(
      new CtcError('CT_PROCESS_ARGS', 'process.args needs at least the program to run', { source: originOf(origins, 'process.args') }),
    );
  }
  errors.push(containerPath(p.cwd, 'process.cwd', origins));
  p.env.forEach((e, i) => {
    if (!/^[^=]+=/.test(e))
      errors.push(
        new CtcError('CT_SHAPE', `process.env[${i}]: '${e}' is not NAME=value`, { source: originOf(origins, `process.env[${i}]`) }),
      );
  });
  const ids = [p.user.uid, p.user.gid, ...p.user.additionalGids];
  if (p.user.name === undefined && ids.some((id) => id < 0 || id > 0xfffffffe)) {
    errors.push(new CtcError('CT_LIMIT_RANGE', 'process.user: ids must be 0..4294967294', { source: originOf(origins, 'process.user') }));
  }
  return errors.filter((e) => e !== undefined);
}

/**
 * A user given by name is looked up in the /etc/passwd and /etc/group the
 * source itself writes (hostRootfs), at build time. In a prepared directory
 * or an image the files are the root's own: the name stays in the plan and ctc-init looks
 * it up in the container's own files when it runs, so the plan does not
 * depend on the directory's contents.
 */
export function resolveUser(spec: Spec, origins: Origins): SpecUser | CtcError {
  const u = spec.process.user;
  if (u.name === undefined || spec.rootfs.kind !== 'host') return u;
  const source = originOf(origins, 'process.user');
  const files = spec.rootfs.files;
  const passwd = files['/etc/passwd'];
  if (passwd === undefined) {
    return new CtcError('CT_USER_UNKNOWN', `user '${u.name}': hostRootfs() writes no /etc/passwd to find it in`, {
      source,
      hint: 'give the user as { uid, gid }, or add /etc/passwd to the rootfs files',
    });
  }
  const entry = table(passwd).find((f) => f[0] === u.name);
  if (!entry) return new CtcError('CT_USER_UNKNOWN', `user '${u.name}' is not in the /etc/passwd hostRootfs() writes`, { source });
  const [uid, gid] = [Number(entry[2]), Number(entry[3])];
  const groups = table(files['/etc/group'] ?? '')
    .filter((g) => (g[3] ?? '').split(',').includes(u.name!) && Number(g[2]) !== gid)
    .map((g) => Number(g[2]));
  return { uid, gid, additionalGids: groups, name: u.name };
}

const table = (text: string) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
