import type { Origins, Spec } from '../spec.ts';

/** What every frontend gives: the spec, where its parts came from, and the files read. */
export interface FrontendResult {
  spec: Spec;
  origins: Origins;
  /** every source file read, relative to the entry's folder, with its sha256 */
  sources: { path: string; sha256: string }[];
}
