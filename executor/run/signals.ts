import { constants } from 'node:os';
import { CtcError } from '../../common/error.ts';

/** A signal as runc takes it: KILL, SIGKILL, kill or 9. */
export function parseSignal(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 0 && n <= 64) return n;
  } else {
    const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
    if (Object.hasOwn(constants.signals, name)) return name;
  }
  throw new CtcError('CT_USAGE', `unknown signal '${text}'`, { hint: 'a name like TERM or SIGKILL, or a number' });
}
