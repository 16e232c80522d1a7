// What lint and explain read: a plan file as it is, or a source (app.ct.ts,
// config.json) built in memory; the compiler loads only for a source.

import { dirname, resolve } from 'node:path';
import type { Plan } from '../plan/steps.ts';
import { readPlanText } from '../plan/file.ts';
import type { Globals } from './args.ts';

export interface PlanInput {
  /** as named on the command line */
  name: string;
  plan: Plan;
  /** the folder the plan's source positions are relative to */
  sourceDir: string;
}

/** `g`: its --config, if any, is the project config. */
export async function readPlanInput(file: string, g?: Globals): Promise<PlanInput> {
  const sourceDir = dirname(resolve(file));
  if (file.endsWith('.plan')) {
    // A plan under the project's planDir: its sources are in the matching folder next to the config.
    const { loadProject, sourceDirOfPlan } = await import('./project.ts');
    return { name: file, plan: readPlanText(file).plan, sourceDir: sourceDirOfPlan(file, await loadProject(sourceDir, g)) };
  }
  const { build } = await import('../compiler/build.ts');
  return { name: file, plan: (await build(file)).plan, sourceDir };
}
