// The OCI frontend: a runtime-spec config.json → Spec. Every part of the
// spec remembers its `config.json:line:col`, so each plan step names the
// line of the config that caused it.

import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { SourceReader } from '../confine.ts';
import { CtcError, throwAll } from '../../common/error.ts';
import { parseJson } from '../oci/json.ts';
import { specOrigins, walkFields } from '../oci/fields.ts';
import { checkVersion, specFromOci } from '../oci/read.ts';
import { seccompOriginsOfOci, seccompSkippedOfOci } from '../seccomp/oci.ts';
import type { Spec } from '../spec.ts';
import type { FrontendResult } from './result.ts';

/** A seccomp rule list may be split or reordered on the way in: its positions come from the reader. */
function seccompOrigins(config: Record<string, unknown>, at: Map<string, string>) {
  const s = seccompOf(config);
  return s ? seccompOriginsOfOci(s, at) : new Map<string, string>();
}

const seccompOf = (config: Record<string, unknown>) => {
  const s = (config.linux as Record<string, unknown> | undefined)?.seccomp;
  return s && typeof s === 'object' ? s : undefined;
};

export function compileOci(configPath: string): FrontendResult {
  const file = resolve(configPath);
  // confined to its project, as text (compiler/confine.ts)
  const text = new SourceReader(file).read(file, { name: configPath });
  return compileOciText(text, basename(file), dirname(file));
}

/** A config's text, as a bundle in `dir` holds it under `name` (the compile server gets the bytes, not the file). */
export function compileOciText(text: string, name: string, dir: string): FrontendResult {
  const { value, at } = parseJson(text, name);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CtcError('CT_SHAPE', `${name} must hold a JSON object (an OCI runtime config)`, { source: at.get('') });
  }
  const config = value as Record<string, unknown>;
  // A config of another major version may mean something else by the same fields.
  const versionWarnings = checkVersion(config, at);
  const fields = walkFields(config, at);
  let spec: Spec;
  try {
    spec = specFromOci(config, at, dir);
  } catch (e) {
    if (e instanceof CtcError) throwAll([...fields.unsupported, e]); // all that is wrong, not one kind of it
    throw e;
  }
  throwAll(fields.unsupported);
  const seccomp = seccompOf(config);
  return {
    spec,
    // what runc accepts and does not do: said once, at build time
    warnings: [...versionWarnings, ...fields.ignored, ...(seccomp ? seccompSkippedOfOci(seccomp, at) : [])],
    origins: new Map([...specOrigins(fields.read, at), ...seccompOrigins(config, at)]),
    sources: [{ path: name, sha256: createHash('sha256').update(text).digest('hex') }],
  };
}
