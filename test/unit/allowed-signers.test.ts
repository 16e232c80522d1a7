// The allowed-signers file as ssh-keygen(1) reads it (ALLOWED SIGNERS):
// principals, options, key; ssh's pattern lists; absolute times. The keys
// are made by ssh-keygen.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtcError } from '../../common/error.ts';
import { matchPatternList, parseAllowedSigners, signersFor } from '../../executor/signing/allowed-signers.ts';
import { tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-signers-');
test.after(() => tmp.remove());
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(tmp.dir, 'k')]);
const pub = readFileSync(join(tmp.dir, 'k.pub'), 'utf8').trim(); // "ssh-ed25519 AAAA... comment"
const blob = Buffer.from(pub.split(' ')[1], 'base64');

const refused = (text: string): CtcError => {
  try {
    parseAllowedSigners(text, 'signers');
  } catch (e) {
    if (e instanceof CtcError) return e;
    throw e;
  }
  throw new Error(`accepted: ${text}`);
};

test('ssh pattern lists: * and ?, and a negated match excludes', () => {
  assert.ok(matchPatternList('ctc-plan', 'git,ctc-*'));
  assert.ok(matchPatternList('ctc-plan', 'ctc-pla?'));
  assert.not.ok(matchPatternList('ctc-plan', 'ctc-plan.x,file'));
  assert.not.ok(matchPatternList('ctc-plan', '*,!ctc-plan'));
  assert.not.ok(matchPatternList('ctc.plan', 'ctc?plan,!ctc.plan'));
});

test('a line: quoted principals with a space, options with commas in a quoted value, a comment after the key', () => {
  const [s] = parseAllowedSigners(
    `# comment\n\n"ci bot@example,ops@*" namespaces="file,ctc-plan",valid-after="20200101" ${pub}\n`,
    'signers',
  );
  assert.is(s.at, 'signers:3');
  assert.is(s.principals, 'ci bot@example,ops@*');
  assert.is(s.namespaces, 'file,ctc-plan');
  assert.equal(signersFor([s], blob, 'ctc-plan').length, 1);
  assert.equal(signersFor([s], blob, 'git').length, 0);
  assert.equal(signersFor([s], blob, 'ctc-plan', new Date(Date.UTC(2019, 0, 1))).length, 0, 'before valid-after');
});

test('times: UTC with Z, to the second; local without; a date that does not exist is refused', () => {
  const [s] = parseAllowedSigners(`a valid-before="20300102030405Z" ${pub}`, 'f');
  assert.is(s.validBefore!.toISOString(), '2030-01-02T03:04:05.000Z');
  const [l] = parseAllowedSigners(`a valid-after="203001020304" ${pub}`, 'f');
  assert.is(l.validAfter!.getTime(), new Date(2030, 0, 2, 3, 4).getTime());
  assert.match(refused(`a valid-after="20261341" ${pub}`).message, /valid-after="20261341" is not a time/);
});

test("refused at their line: a key type that is not the key's, a missing key, an unquoted option value", () => {
  const wrong = refused(`ok ${pub}\na ecdsa-sha2-nistp256 ${pub.split(' ')[1]}`);
  assert.is(wrong.code, 'CT_ALLOWED_SIGNERS');
  assert.is(wrong.source, 'signers:2');
  assert.match(wrong.message, /the key is a ssh-ed25519 key, the line says ecdsa-sha2-nistp256/);
  assert.match(refused('a namespaces="ctc-plan"').message, /expected principals, a key type and a key/);
  assert.match(refused(`a namespaces=ctc-plan ${pub}`).message, /namespaces needs a quoted value/);
});

test.run();
