import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, hookKinds, originOf } from '../spec.ts';
import { containerPath, hostPath } from './paths.ts';

/**
 * Hooks, and the annotations they see: a path that resolves where the hook runs (startContainer's in the
 * container's root, the others' on the host), a timeout of whole seconds,
 * and an environment of NAME=value entries.
 */
export function checkHooks(spec: Spec, origins: Origins): CtcError[] {
  const errors: (CtcError | undefined)[] = [];
  for (const kind of hookKinds) {
    (spec.hooks[kind] ?? []).forEach((hook, i) => {
      const at = `hooks.${kind}[${i}]`;
      errors.push(kind === 'startContainer' ? containerPath(hook.path, `${at}.path`, origins) : hostPath(hook.path, `${at}.path`, origins));
      if (hook.timeout !== undefined && hook.timeout < 1) {
        errors.push(
          new CtcError('CT_HOOK', `${at}.timeout: ${hook.timeout} is not a number of seconds from 1`, {
            source: originOf(origins, `${at}.timeout`),
            hint: 'leave timeout out to wait as long as the hook takes',
          }),
        );
      }
      hook.env.forEach((e, j) => {
        if (!/^[^=]+=/.test(e))
          errors.push(
            new CtcError('CT_HOOK', `${at}.env[${j}]: '${e}' is not NAME=value`, { source: originOf(origins, `${at}.env[${j}]`) }),
          );
      });
    });
  }
  return errors.filter((e) => e !== undefined);
}

/** Annotations travel in the plan as key=value (state.create): a key is not empty and holds no '='. */
export function checkAnnotations(spec: Spec, origins: Origins): CtcError[] {
  return Object.keys(spec.annotations)
    .filter((k) => k === '' || k.includes('='))
    .map(
      (k) =>
        new CtcError('CT_SHAPE', `annotations: '${k}' is not an annotation key (empty, or with '=')`, {
          source: originOf(origins, `annotations.${k}`) ?? originOf(origins, 'annotations'),
        }),
    );
}
