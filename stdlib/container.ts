import type { Container, ContainerDef } from './types.ts';

/** Declares a container; the default export of an app.ct.ts. */
export function container(def: ContainerDef): Container {
  return { kind: 'ctc.container', def };
}
