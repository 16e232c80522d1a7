// `ctc build`: source → frontend → check → lower → plan text.

import { CtcError } from '../common/error.ts';
import { check } from './check/index.ts';
import { relax } from './check/relax.ts';
import { afterExecWarnings } from './check/after-exec.ts';
import { lower } from './lower/index.ts';
import type { Plan } from '../plan/steps.ts';
import { printPlan } from '../plan/text.ts';
import type { FrontendResult } from './frontend/result.ts';
import { type Origins, type Spec, originOf } from './spec.ts';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface Built {
  /** the spec after the checks (users resolved) */
  spec: Spec;
  plan: Plan;
  text: string;
  /** what was accepted and adjusted, as runc would (check/relax.ts) */
  warnings: CtcError[];
}

async function frontendFor(src: string): Promise<(src: string) => FrontendResult> {
  if (src.endsWith('.ct.ts')) return (await import('./frontend/ts.ts')).compileTs;
  if (src.endsWith('.ct')) return (await import('./frontend/dsl/frontend.ts')).compileCt;
  if (src.endsWith('.json')) return (await import('./frontend/oci.ts')).compileOci;
  throw new CtcError('CT_SOURCE_KIND', `no frontend for ${src}`, {
    hint: 'container sources are .ct.ts modules, .ct files or OCI runtime configs (config.json)',
  });
}

export async function build(src: string): Promise<Built> {
  return built((await frontendFor(src))(src), src);
}

/** A bundle's config.json from its text (the compile server's input: it is handed the bytes, not the file). */
export async function buildOciText(text: string, bundleDir: string): Promise<Built> {
  const { compileOciText } = await import('./frontend/oci.ts');
  return built(compileOciText(text, 'config.json', bundleDir), join(bundleDir, 'config.json'));
}

async function built(front: FrontendResult, src: string): Promise<Built> {
  const relaxed = relax(front.spec, front.origins);
  const spec = await withImageDigest(check(relaxed.spec, front.origins), src, front.origins);
  const plan = lower(spec, front);
  const warnings = [...(front.warnings ?? []), ...relaxed.warnings, ...afterExecWarnings(spec, front.origins)];
  return { spec, plan, text: printPlan(plan), warnings };
}

/**
 * An image root: the plan names the image by its digest, read here from the
 * archive (a relative path is the source's folder's), so a changed archive
 * is refused when the plan runs rather than run unreviewed.
 */
async function withImageDigest(spec: Spec, src: string, origins: Origins): Promise<Spec> {
  if (spec.rootfs.kind !== 'image') return spec;
  const [{ readImage }, { SourceReader }] = await Promise.all([import('../image/archive.ts'), import('./confine.ts')]);
  try {
    // inside the source's project after symlinks, as the source itself (compiler/confine.ts)
    const reader = new SourceReader(src);
    const archive = resolve(dirname(src), spec.rootfs.archive);
    const confined = existsSync(archive) ? reader.path(archive, { name: spec.rootfs.archive }) : archive; // a missing one: readImage says so
    const { digest } = await readImage(confined, { confine: (file) => reader.path(file, { name: reader.name(file) }) });
    return { ...spec, rootfs: { ...spec.rootfs, digest } };
  } catch (e) {
    if (!(e instanceof CtcError)) throw e;
    throw new CtcError(e.code, e.message, { source: originOf(origins, 'rootfs.archive'), hint: e.hint });
  }
}

/** Where `ctc build app.ct.ts` writes by default: app.plan, next to it. */
export const defaultPlanPath = (src: string) => src.replace(/(\.ct\.ts|\.ct|\.json)$/, '') + '.plan';
