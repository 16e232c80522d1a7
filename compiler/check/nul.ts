import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';

/**
 * No string of the spec holds a NUL byte. The kernel reads C strings, which
 * end at the first NUL: `args: ['A\0B']` would run as two arguments,
 * `FOO=x\0INJECTED=1` would set INJECTED, a path or hostname would be cut
 * short, while the plan shows one string. runc refuses them too. Every
 * string is walked (keys as well: annotations, sysctl, cgroup files), so a
 * field added later is covered without being listed here.
 */
export function checkNul(spec: Spec, origins: Origins): CtcError[] {
  return nulErrors(spec, '', (path) => originOf(origins, path));
}

/** CT_NUL for each string (or key) holding a NUL in any plain data, e.g. an OCI process file for exec. */
export function nulErrors(value: unknown, path: string, sourceOf: (path: string) => string | undefined): CtcError[] {
  const errors: CtcError[] = [];
  walk(value, path, (at, text) => {
    if (text.includes('\0')) errors.push(nulError(at, text, sourceOf(at)));
  });
  return errors;
}

/** Calls visit with the spec path of every string, and of every object key (as the object's path + '.' + key). */
function walk(value: unknown, path: string, visit: (path: string, text: string) => void): void {
  if (typeof value === 'string') return visit(path, value);
  if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const at = path ? `${path}.${k}` : k;
    visit(at, k);
    walk(v, at, visit);
  }
}

function nulError(path: string, text: string, source: string | undefined): CtcError {
  // around the first NUL, so a long string still shows where it is
  const at = text.indexOf('\0');
  const shown = `${at > 30 ? '…' : ''}${JSON.stringify(text.slice(Math.max(0, at - 30), at + 30))}${at + 30 < text.length ? '…' : ''}`;
  const where = path.replace(/\0/g, '\\u0000');
  return new CtcError('CT_NUL', `${where}: ${shown} holds a NUL byte; the kernel would read it as a shorter string or as two`, {
    source,
    hint: 'take the \\0 (\\u0000) out: no argument, environment entry, path, name or annotation can hold one',
  });
}
