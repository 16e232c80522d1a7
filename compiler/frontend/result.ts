import type { CtcError } from '../../common/error.ts';
import type { Origins, Spec } from '../spec.ts';

/** What every frontend gives: the spec, where its parts came from, and the files read. */
export interface FrontendResult {
  spec: Spec;
  origins: Origins;
  /** every source file read, relative to the entry's folder, with its sha256 */
  sources: { path: string; sha256: string }[];
  /** what the source asks for that is accepted but not done, as runc accepts it (the OCI frontend's) */
  warnings?: CtcError[];
}
