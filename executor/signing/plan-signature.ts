// Signed plans: who approved a plan. A plan's digest is a checksum anyone
// recomputes after an edit; a signature is not. `ctc sign PLAN --key KEY`
// writes PLAN.sig, an OpenSSH signature (executor/signing/sshsig.ts) in the
// namespace `ctc-plan`, so `ssh-keygen -Y sign -n ctc-plan` and `ctc sign`
// make the same kind of file and `ssh-keygen -Y verify` checks either. A run
// with allowed signers (--allowed-signers, or the config's allowedSigners)
// checks PLAN.sig over the exact bytes it then runs, before the plan is even
// parsed, so nothing happens on the host for a plan no allowed key signed.

import { constants, fstatSync, openSync, readFileSync, closeSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { parsePlan } from '../../plan/text.ts';
import { type Signer, parseAllowedSigners, signersFor } from './allowed-signers.ts';
import { writeCallerFile } from '../container/caller-files.ts';
import { codeOf } from '../../common/errno.ts';
import { readPlanBytes } from '../../plan/file.ts';
import { SshFormatError, fingerprint, parseSignature, privateKey, publicKey, signMessage, verifyMessage } from './sshsig.ts';

/** The namespace of plan signatures: a signature made for anything else (git commits, files) is not a plan's. */
export const NAMESPACE = 'ctc-plan';

export const signatureFile = (plan: string) => `${plan}.sig`;

const signHint = (plan: string) =>
  `sign it where it was reviewed: \`ctc sign ${plan} --key KEY\`, or \`ssh-keygen -Y sign -f KEY -n ${NAMESPACE} ${plan}\``;

/** ssh-keygen's name of a key type in messages: ED25519, ECDSA, RSA. */
const keyKind = (type: string) =>
  type === 'ssh-ed25519' ? 'ED25519' : type.startsWith('ecdsa-') ? 'ECDSA' : type === 'ssh-rsa' ? 'RSA' : type;
const describeKey = (blob: Buffer) => `${keyKind(publicKey(blob).type)} key ${fingerprint(blob)}`;

/** `ctc sign`: signs a plan (one that reads as a plan) with an OpenSSH private key file; returns the .sig's path and the key. */
export function signPlan(plan: string, keyFile: string): { file: string; key: string } {
  const bytes = readPlanBytes(plan);
  parsePlan(bytes.toString('utf8'), plan); // only a plan is signed as one
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (e) {
    throw new CtcError('CT_SIGN_KEY', `cannot read the key ${keyFile}`, { errno: codeOf(e) });
  }
  let key;
  try {
    key = privateKey(text);
  } catch (e) {
    if (!(e instanceof SshFormatError)) throw e;
    throw new CtcError('CT_SIGN_KEY', `${keyFile}: ${e.message}`, {
      hint: /encrypted/.test(e.message)
        ? `ctc signs with an unencrypted key (CI's secret); for a key with a passphrase or in an agent: ssh-keygen -Y sign -f ${keyFile} -n ${NAMESPACE} ${plan}`
        : 'ctc signs with an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----): ed25519, ecdsa or rsa, as ssh-keygen -t ed25519 makes it',
    });
  }
  const file = signatureFile(plan);
  writeCallerFile(file, signMessage(key, NAMESPACE, bytes)); // a symlink planted at PLAN.sig is replaced, never written through
  return { file, key: describeKey(key.public.blob) };
}

/** Who approved a plan: the allowed-signers lines that allow its signature's key. */
export interface Approval {
  principals: string;
  key: string;
  /** file:line of the first line that allows it */
  at: string;
}

/**
 * Checks that PLAN.sig is a ctc-plan signature of exactly `bytes` (the
 * plan as read, once, for this run) by a key `allowedSigners` allows:
 * CT_PLAN_UNSIGNED without PLAN.sig, CT_PLAN_SIGNATURE otherwise.
 */
export function checkPlanSignature(plan: string, bytes: Buffer, allowedSigners: string): Approval {
  const signers = readAllowedSigners(allowedSigners);
  const file = signatureFile(plan);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const errno = codeOf(e);
    if (errno === 'ENOENT')
      throw new CtcError(
        'CT_PLAN_UNSIGNED',
        `the plan ${plan} is not signed: there is no ${file}, and ${allowedSigners} says who must sign`,
        { hint: signHint(plan) },
      );
    throw new CtcError('CT_PLAN_SIGNATURE', `cannot read the signature ${file}`, { errno });
  }
  const bad = (message: string, hint?: string) =>
    new CtcError('CT_PLAN_SIGNATURE', message, { source: file, hint: hint ?? signHint(plan) });
  let sig;
  try {
    sig = parseSignature(text);
    publicKey(sig.publicKey);
  } catch (e) {
    if (e instanceof SshFormatError) throw bad(`not a signature ctc verifies: ${e.message}`);
    throw e;
  }
  if (sig.namespace !== NAMESPACE)
    throw bad(`signed for the namespace '${sig.namespace}', not '${NAMESPACE}': it approves something else, not a plan`);
  if (!verifyMessage(sig, NAMESPACE, bytes)) {
    throw bad(
      `does not verify over ${plan} (${describeKey(sig.publicKey)}): the plan changed after it was signed, or the signature is another plan's`,
    );
  }
  const allowed = signersFor(signers, sig.publicKey, NAMESPACE);
  if (allowed.length === 0)
    throw bad(
      notAllowed(sig.publicKey, signers, allowedSigners),
      `add the key to ${allowedSigners} (principals namespaces="${NAMESPACE}" keytype key), or have an allowed key sign the plan`,
    );
  return { principals: allowed.map((s) => s.principals).join(', '), key: describeKey(sig.publicKey), at: allowed[0].at };
}

/** Why a valid signature's key is refused: not listed at all, or listed but not for ctc-plan or not now. */
function notAllowed(key: Buffer, signers: Signer[], file: string): string {
  const listed = signers.filter((s) => s.key.equals(key));
  const why = listed.length
    ? `is listed (${listed.map((s) => s.at).join(', ')}) but not for namespace '${NAMESPACE}' at this time`
    : `is not in ${file}`;
  return `signed by ${describeKey(key)}, which ${why}`;
}

/** The allowed signers, from a file the caller or root owns and only they can write: whoever writes it decides what runs as root. */
function readAllowedSigners(file: string): Signer[] {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (e) {
    throw new CtcError('CT_ALLOWED_SIGNERS', `cannot read the allowed signers ${file}`, { errno: codeOf(e) });
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid!();
    if ((st.uid !== uid && st.uid !== 0) || st.mode & 0o022) {
      throw new CtcError(
        'CT_ALLOWED_SIGNERS',
        `${file} is owned by uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}: not read`,
        {
          hint: `whoever can write it chooses which plans run; chown it to you or root and chmod go-w ${file}`,
        },
      );
    }
    return parseAllowedSigners(readFileSync(fd, 'utf8'), file);
  } finally {
    closeSync(fd);
  }
}
