// OpenSSH's allowed-signers file (ssh-keygen(1), ALLOWED SIGNERS): one signer
// a line, `principals [options] keytype base64key [comment]`; blank lines and
// `#` comments skipped. Options: namespaces="pattern-list" (which signature
// namespaces the key may sign), valid-after / valid-before (YYYYMMDD[HHMM[SS]],
// local time, or UTC with a trailing Z). cert-authority (certificates signed
// by the key) is refused by name: ctc verifies plain keys only. An unknown
// option, or a line that does not parse, is an error at its line, never a
// line skipped: a typo must not quietly widen or narrow who may sign.

import { CtcError } from '../../common/error.ts';
import { SshFormatError, publicKey } from './sshsig.ts';

export interface Signer {
  /** file:line, for messages */
  at: string;
  /** the principals field as written (a comma-separated pattern list) */
  principals: string;
  /** the key's wire blob */
  key: Buffer;
  namespaces?: string;
  validAfter?: Date;
  validBefore?: Date;
}

/** The signers of an allowed-signers file's text (`name` for messages). */
export function parseAllowedSigners(text: string, name: string): Signer[] {
  const signers: Signer[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    signers.push(parseLine(line, `${name}:${i + 1}`));
  }
  return signers;
}

function parseLine(line: string, at: string): Signer {
  const fail = (message: string): never => {
    throw new CtcError('CT_ALLOWED_SIGNERS', message, {
      source: at,
      hint: 'each line is `principals [namespaces="ctc-plan"] keytype base64key [comment]`, as ssh-keygen -Y verify reads it',
    });
  };
  const fields = tokens(line);
  if (fields.length < 3) fail('expected principals, a key type and a key');
  const principals = unquote(fields[0]);
  // options are there when the second field is not a key type (ssh-keygen decides the same way: by whether a key parses there)
  const hasOptions = !/^(ssh-|ecdsa-|sk-)/.test(fields[1]);
  const [type, b64] = hasOptions ? fields.slice(2, 4) : fields.slice(1, 3);
  if (!type || !b64) fail('expected a key type and a base64 key after the options');
  const key = Buffer.from(b64, 'base64');
  try {
    if (publicKey(key).type !== type) fail(`the key is a ${publicKey(key).type} key, the line says ${type}`);
  } catch (e) {
    if (e instanceof SshFormatError) fail(`not a public key ctc reads: ${e.message}`);
    throw e;
  }
  const signer: Signer = { at, principals, key };
  if (hasOptions) for (const option of splitOptions(fields[1])) applyOption(signer, option, fail);
  return signer;
}

/** Whitespace-separated fields; a double-quoted part may hold spaces. */
function tokens(line: string): string[] {
  return line.match(/(?:"[^"]*"|[^\s"])+/g) ?? [];
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/** Comma-separated options; a quoted value may hold commas. */
function splitOptions(field: string): string[] {
  return field.match(/(?:"[^"]*"|[^,"])+/g) ?? [];
}

function applyOption(signer: Signer, option: string, fail: (m: string) => never): void {
  const [name, value] = option.split(/=(.*)/s, 2);
  const quoted = value !== undefined && /^"[^"]*"$/.test(value) ? value.slice(1, -1) : undefined;
  const lower = name.toLowerCase();
  if (lower === 'cert-authority')
    fail('cert-authority (signatures by certificates) is not supported: ctc accepts signatures by the keys listed');
  if (lower !== 'namespaces' && lower !== 'valid-after' && lower !== 'valid-before')
    fail(`unknown option '${name}' (ctc reads namespaces, valid-after, valid-before)`);
  if (quoted === undefined) fail(`${name} needs a quoted value: ${name}="..."`);
  if (lower === 'namespaces') signer.namespaces = quoted;
  else {
    const time = parseTime(quoted!);
    if (!time) fail(`${name}="${quoted}" is not a time: YYYYMMDD[HHMM[SS]][Z]`);
    if (lower === 'valid-after') signer.validAfter = time;
    else signer.validBefore = time;
  }
}

/** ssh's absolute times: local time, or UTC with Z. */
function parseTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/i.exec(s);
  if (!m) return undefined;
  const parts = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0));
  const [y, mo, d, h, mi, sec] = parts;
  const utc = m[7] !== '';
  const date = utc ? new Date(Date.UTC(y, mo - 1, d, h, mi, sec)) : new Date(y, mo - 1, d, h, mi, sec);
  const back = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  return back.every((v, k) => v === parts[k]) ? date : undefined; // 20261341 is no date
}

/** The signers that may sign in `namespace` with `key` at `now`. */
export function signersFor(signers: Signer[], key: Buffer, namespace: string, now = new Date()): Signer[] {
  return signers.filter(
    (s) =>
      s.key.equals(key) &&
      (s.namespaces === undefined || matchPatternList(namespace, s.namespaces)) &&
      (s.validAfter === undefined || now >= s.validAfter) &&
      (s.validBefore === undefined || now <= s.validBefore),
  );
}

/** ssh's pattern lists: comma-separated `*`/`?` patterns; one negated (`!`) that matches excludes. */
export function matchPatternList(value: string, list: string): boolean {
  let matched = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    if (!matchPattern(value, negated ? raw.slice(1) : raw)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function matchPattern(value: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}
