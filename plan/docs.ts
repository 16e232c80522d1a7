// docs/plan-format.md's table of step kinds, generated from the step table so the
// two cannot drift (test/unit/docs.test.ts compares them).

import { type KindSpec, stepKinds } from './steps.ts';

export function stepKindsMarkdown(): string {
  const rows = Object.entries(stepKinds as Record<string, KindSpec>).map(([kind, k]) => {
    const args = k.args.map((a) => (a.optional ? `[${a.name}]` : a.name)).join(' ');
    const undo = k.undo ? ` Undo: ${k.undo}.` : '';
    const syscalls = k.syscalls.map((s) => `\`${s}\``).join(' ');
    return `| \`${kind}\` | ${k.actor} | ${args} | ${k.doc}.${undo} | ${syscalls} |`;
  });
  return ['| kind | actor | arguments | what it does | syscalls |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
