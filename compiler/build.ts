// `ctc build`: source → frontend → check → lower → plan text.

import { CtcError } from './error.ts';
import { check } from './check/index.ts';
import { lower } from './lower/index.ts';
import type { Plan } from './plan/steps.ts';
import { printPlan } from './plan/text.ts';
import type { FrontendResult } from './frontend/result.ts';

export interface Built {
  plan: Plan;
  text: string;
}

async function frontendFor(src: string): Promise<(src: string) => FrontendResult> {
  if (src.endsWith('.ct.ts')) return (await import('./frontend/ts.ts')).compileTs;
  throw new CtcError('CT_SOURCE_KIND', `no frontend for ${src}`, {
    hint: 'container sources are .ct.ts modules (the .ct language and config.json come later)',
  });
}

export async function build(src: string): Promise<Built> {
  const front = (await frontendFor(src))(src);
  const spec = check(front.spec, front.origins);
  const plan = lower(spec, front);
  return { plan, text: printPlan(plan) };
}

/** Where `ctc build app.ct.ts` writes by default: app.plan, next to it. */
export const defaultPlanPath = (src: string) => src.replace(/(\.ct\.ts|\.ct|\.json)$/, '') + '.plan';
