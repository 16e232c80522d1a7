// `ctc sign PLAN --key KEY`: the approval of a reviewed plan, as PLAN.sig
// (executor/signing/plan-signature.ts). CI signs the plans it built on merge; hosts
// run them with --allowed-signers.

import { CtcError } from '../common/error.ts';
import { signPlan } from '../executor/signing/plan-signature.ts';
import { parseCommand } from './args.ts';

export const signHelp = `usage: ctc sign PLAN... --key KEY

Signs each plan with KEY, an unencrypted OpenSSH private key (ed25519,
ecdsa or rsa), into PLAN.sig: an OpenSSH signature in the namespace
ctc-plan, which \`ssh-keygen -Y verify -n ctc-plan\` checks and
\`ctc run --allowed-signers FILE\` requires.`;

export function signCommand(args: string[]): number {
  const { values, positionals } = parseCommand('sign', args, {
    key: { type: 'string', short: 'k' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(signHelp), 0);
  if (values.key === undefined || positionals.length === 0) {
    throw new CtcError('CT_USAGE', 'sign needs a plan and --key KEY', { hint: 'usage: ctc sign PLAN --key KEY' });
  }
  for (const plan of positionals) {
    const { file, key } = signPlan(plan, values.key);
    process.stderr.write(`ctc: wrote ${file} (${key})\n`);
  }
  return 0;
}
