// Lowering: a checked Spec becomes the ordered steps of a Plan. All policy
// (order, derived steps, defaults) is here; the executor has none.

import type { FrontendResult } from '../frontend/result.ts';
import type { Plan } from '../../plan/steps.ts';
import type { Spec } from '../spec.ts';
import { lowerCgroup, lowerCgroupJoin } from './cgroups.ts';
import { Emitter } from './emit.ts';
import { lowerMounts } from './mounts.ts';
import { lowerClone, lowerJoins, lowerUnshare, lowerUserMap, lowerUserRoot } from './namespaces.ts';
import { lowerBridges, lowerDnsFiles, lowerIpam, lowerDnsMounts, lowerNetworkInit, lowerVeths } from './network.ts';
import { lowerHooks } from './hooks.ts';
import { lowerNames, lowerProcess } from './process.ts';
import { lowerImage, lowerPivot, lowerRootfs } from './rootfs.ts';

export function lower(spec: Spec, { origins, sources }: Pick<FrontendResult, 'origins' | 'sources'>): Plan {
  const out = new Emitter(origins);
  const annotations = Object.entries(spec.annotations).map(([k, v]) => `${k}=${v}`);
  out.emit('state.create', { dir: '{state}', annotations: annotations.length ? annotations : undefined }, '');
  // journaled first, so they run last when the container is deleted, before its state dir goes
  lowerHooks(spec, out, ['poststop']);
  lowerImage(spec, out);
  lowerCgroup(spec, out);
  lowerBridges(spec, out);
  lowerIpam(spec, out);
  lowerDnsFiles(spec, out);
  lowerClone(spec, out);
  lowerCgroupJoin(spec, out);
  lowerUserMap(spec, out);
  lowerVeths(spec, out);
  lowerUserRoot(spec, out);
  lowerJoins(spec, out);
  lowerUnshare(spec, out);
  lowerNetworkInit(spec, out);
  lowerRootfs(spec, out);
  lowerMounts(spec, out);
  lowerDnsMounts(spec, out);
  // the namespaces and mounts exist; the root is not pivoted yet
  lowerHooks(spec, out, ['prestart', 'createRuntime', 'createContainer']);
  lowerPivot(spec, out);
  lowerNames(spec, out);
  lowerHooks(spec, out, ['startContainer']);
  lowerProcess(spec, out);
  lowerHooks(spec, out, ['poststart']);
  return { version: 1, sources, steps: out.steps };
}
