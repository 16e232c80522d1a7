// `ctc spec`: writes a starting config.json, as `runc spec` does.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../common/error.ts';
import { printConfig } from '../compiler/oci/config.ts';
import { exampleConfig } from '../compiler/oci/example.ts';
import { parseCommand } from './args.ts';

export const specHelp = `usage: ctc spec [--bundle DIR] [--rootless]

Writes DIR/config.json (default: here), an OCI runtime config to start from,
shaped like runc's: sh on a terminal in the bundle's rootfs (read-only), the
default mounts, masked and read-only paths, and namespaces. Edit it, put a
root filesystem in DIR/rootfs, then \`ctc build DIR/config.json\`.

  -b, --bundle DIR   where to write config.json
  --rootless         for an unprivileged user, as runc spec --rootless: a
                     user namespace mapping your uid and gid to root, no
                     network namespace, /sys bound from the host, no cgroup
                     limits; ctc runs it as written`;

export async function specCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand('spec', args, {
    bundle: { type: 'string', short: 'b' },
    rootless: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(specHelp), 0);
  if (positionals.length)
    throw new CtcError('CT_USAGE', `spec takes no arguments, not '${positionals[0]}'`, { hint: 'see `ctc spec --help`' });
  const file = join(values.bundle ?? '.', 'config.json');
  const rootless = values.rootless ? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } : undefined;
  const text = printConfig(exampleConfig({ rootless }));
  try {
    writeFileSync(file, text, { flag: 'wx', mode: 0o644 }); // wx: never overwrite, even in a race
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST')
      throw new CtcError('CT_EXISTS', `File ${file} exists. Remove it first`, { hint: 'ctc spec does not overwrite a config' });
    throw new CtcError('CT_WRITE', `cannot write ${file}`, { errno: err.code });
  }
  process.stderr.write(`ctc: wrote ${file}\n`);
  return 0;
}
