// A plan's digest line recomputed as printPlan writes it, so that an edited
// plan reaches the step parser (the fuzz and regression tests of the parsers).

import { createHash } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Recomputes the digest line as printPlan does, so that the mutant reaches the step parser. */
export function resign(text: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith('digest sha256:'));
  if (i < 0) return text;
  const rest = [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n');
  lines[i] = `digest sha256:${sha256(rest)}`;
  return lines.join('\n');
}
