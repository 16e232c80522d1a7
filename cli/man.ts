// ctc.1, the man page, made from the help texts (cli/help.ts and each
// command module's own, as `ctc completion` reads them), so `man ctc` says
// what `ctc --help` and `ctc CMD --help` say. scripts/build.mjs writes it to
// dist/ctc.1 when it builds from the sources; the package ships it
// (package.json "man").

import { packageVersion } from '../common/package.ts';
import { helpTexts } from './completion.ts';
import { overviewHelp } from './help.ts';

/** Text as roff shows it verbatim: backslashes escaped, no line read as a request. */
function verbatim(text: string): string {
  const lines = text.replace(/\\/g, '\\e').split('\n');
  return ['.nf', ...lines.map((l) => (/^[.']/.test(l) ? `\\&${l}` : l)), '.fi'].join('\n');
}

export async function manPage(): Promise<string> {
  const help = await helpTexts();
  const sections = Object.keys(help)
    .sort()
    .map((name) => `.SS ${name}\n${verbatim(help[name])}`);
  return [
    `.TH CTC 1 "" "ctc ${packageVersion()}" "User Commands"`,
    '.SH NAME',
    'ctc \\- a container compiler for Linux: typed sources become reviewable plans of kernel steps, which ctc runs',
    '.SH SYNOPSIS',
    verbatim(overviewHelp),
    '.SH COMMANDS',
    'Each command also prints its part with \\fBctc\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR.',
    ...sections,
    '.SH SEE ALSO',
    'runc(8), the README and docs/ of the ctc package',
    '',
  ].join('\n');
}
