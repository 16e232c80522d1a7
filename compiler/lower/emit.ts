import type { ArgValue, Step, StepKind } from '../../plan/steps.ts';
import { type Origins, originOf } from '../spec.ts';

/** Collects steps in order, each with the source of the spec path that caused it. */
export class Emitter {
  readonly steps: Step[] = [];
  constructor(private readonly origins: Origins) {}

  /** The first of these spec paths that has an origin of its own: a fact one source writes in one place and another in another. */
  cause(...paths: string[]): string {
    return paths.find((p) => this.origins.has(p)) ?? paths[paths.length - 1];
  }

  emit(kind: StepKind, args: Record<string, ArgValue | undefined>, cause: string): void {
    const defined = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) as Record<string, ArgValue>;
    const source = originOf(this.origins, cause);
    this.steps.push({ n: this.steps.length + 1, kind, args: defined, ...(source ? { source } : {}) });
  }
}
