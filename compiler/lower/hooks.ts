import type { HookKind, Spec } from '../spec.ts';
import type { Emitter } from './emit.ts';

/** The hook steps of the given moments, in order; where they stand in the plan is when they run. */
export function lowerHooks(spec: Spec, out: Emitter, kinds: readonly HookKind[]): void {
  for (const when of kinds) {
    (spec.hooks[when] ?? []).forEach((h, i) => {
      out.emit(
        'hook.run',
        { when, path: h.path, args: h.args, env: h.env.length ? h.env : undefined, timeout: h.timeout },
        `hooks.${when}[${i}]`,
      );
    });
  }
}
