// Issue 20, signed plans: a plan is root on the host, and its digest is a
// checksum anyone recomputes after an edit. `ctc sign` writes PLAN.sig in
// OpenSSH's SSHSIG format (ssh-keygen -Y verify checks it); `ctc run
// --allowed-signers FILE` (or the config's allowedSigners) runs a plan only if
// a key FILE allows signed its exact bytes in the namespace ctc-plan. Keys
// are made by ssh-keygen here. Every refusal is checked through the launcher
// (dist/ctc) and through Node (CTC_NATIVE=0): the plan's process would touch
// /marker in its busybox root, and after a refusal the marker is absent, the
// state root empty, and no cgroup, mount or ctc-init of ours is left. Needs root.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { busyboxBundle, busyboxRootfs } from '../busybox.ts';
import { ctc, hostResidue, mountTable, root, tempDir, type Ran } from '../helpers.ts';
import { resign } from '../resign.ts';

const tmp = tempDir('ctc-signed-');
const state = join(tmp.dir, 'state');
const rootfs = busyboxRootfs(tmp.dir);
const marker = join(rootfs, 'marker');
const launcher = join(root, 'dist', 'ctc');
// ours: every id starts with sig- (cgroups /ctc/<id>); the state root is in the temp dir
const ours = () => hostResidue([state]).filter((x) => /\bsig-|ctc-signed-/.test(x));
const before = ours();
// mounts of ours: under the temp dir (others' tests may mount elsewhere meanwhile)
const ourMounts = () => mountTable().filter((m) => m.includes(tmp.dir));
const mountsBefore = ourMounts();
test.after(() => tmp.remove());

const at = (name: string) => join(tmp.dir, name);

/** An ssh-keygen key pair in the temp dir; returns the private key's path (the public one is KEY.pub). */
function keygen(name: string, type = ['-t', 'ed25519'], extra: string[] = ['-N', '']): string {
  execFileSync('ssh-keygen', ['-q', ...type, ...extra, '-C', name, '-f', at(name)]);
  return at(name);
}
const publicPart = (key: string) => readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');

const ci = keygen('ci');
const stranger = keygen('stranger');
const allowed = at('allowed_signers');
writeFileSync(allowed, `# who may approve plans\nci@example namespaces="ctc-plan" ${publicPart(ci)} the CI key\n`);

/** A plan whose process touches /marker in the busybox root (a host file of the test's). */
function buildPlan(name: string): string {
  const src = at(`${name}.ct.ts`);
  writeFileSync(
    src,
    `import { container, defaultMounts, dirRootfs } from 'ctc';\nexport default container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: { args: ['/bin/touch', '/marker'], env: ['PATH=/bin'] } });\n`,
  );
  const r = ctc(['build', src]);
  assert.is(r.status, 0, r.stderr);
  return at(`${name}.plan`);
}

const sshSign = (key: string, file: string, namespace = 'ctc-plan') =>
  execFileSync('ssh-keygen', ['-Y', 'sign', '-q', '-f', key, '-n', namespace, file]);

type Way = 'launcher' | 'node';
const ways: Way[] = ['launcher', 'node'];

/** `dist/ctc ...args`: the launcher, or with CTC_NATIVE=0 straight to Node. */
function run(way: Way, args: string[], env: Record<string, string> = {}): Ran {
  const r = spawnSync(launcher, ['--root', state, ...args], {
    cwd: tmp.dir,
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
    env: { ...process.env, ...(way === 'node' ? { CTC_NATIVE: '0' } : {}), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Nothing was done on the host: no marker, no container state, no cgroup, mount or process of ours. */
function assertNothingDone(what: string) {
  assert.not.ok(existsSync(marker), `${what}: the process never ran (/marker is absent)`);
  assert.equal(existsSync(state) ? readdirSync(state).filter((f) => !f.startsWith('.')) : [], [], `${what}: no container state`);
  assert.equal(ours(), before, `${what}: no cgroup, mount or ctc-init of ours`);
  assert.equal(ourMounts(), mountsBefore, `${what}: nothing is mounted in the test's folders`);
}

test('ctc sign: ssh-keygen -Y verify accepts its signature (ed25519, ecdsa p-256, rsa), and names the principal', () => {
  const plan = buildPlan('interop');
  for (const [name, type] of [
    ['ed', ['-t', 'ed25519']],
    ['ec', ['-t', 'ecdsa', '-b', '256']],
    ['rsa', ['-t', 'rsa', '-b', '2048']],
  ] as const) {
    const key = keygen(`interop-${name}`, [...type]);
    const r = ctc(['sign', plan, '--key', key]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`wrote ${plan}\\.sig \\((ED25519|ECDSA|RSA) key SHA256:`));
    assert.match(readFileSync(`${plan}.sig`, 'utf8'), /^-----BEGIN SSH SIGNATURE-----\n[\s\S]+\n-----END SSH SIGNATURE-----\n$/);
    const signers = at(`interop-${name}.allowed`);
    writeFileSync(signers, `ci@example ${publicPart(key)}\n`);
    const v = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', 'ci@example', '-n', 'ctc-plan', '-s', `${plan}.sig`], {
      input: readFileSync(plan),
      encoding: 'utf8',
    });
    assert.is(v.status, 0, `${name}: ${v.stdout}${v.stderr}`);
    assert.match(v.stdout, /^Good "ctc-plan" signature for ci@example with (ED25519|ECDSA|RSA) key SHA256:/);
    const wrongNs = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', 'ci@example', '-n', 'file', '-s', `${plan}.sig`], {
      input: readFileSync(plan),
    });
    assert.is.not(wrongNs.status, 0, `${name}: ssh-keygen refuses it for another namespace`);
  }
});

for (const way of ways) {
  test(`${way}: ctc run --allowed-signers runs a plan ssh-keygen -Y sign signed, and says who signed it`, () => {
    const plan = buildPlan(`signed-${way}`);
    sshSign(ci, plan);
    const log = at(`ok-${way}.log`);
    const r = run(way, ['--log', log, '--log-format', 'json', 'run', '--id', `sig-ok-${way}`, '--allowed-signers', allowed, plan]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(existsSync(marker), 'the process ran: /marker is there');
    assert.match(r.stderr, new RegExp(`ctc: plan ${plan} signed by ci@example \\(ED25519 key SHA256:\\S+, allowed by ${allowed}:2\\)`));
    const entry = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]);
    assert.equal([entry.level, entry.principals], ['info', 'ci@example'], 'the log says who approved the plan');
    rmSync(marker);
    assert.equal(ours(), before, 'everything was removed after the run');
  });

  test(`${way}: an unsigned plan is CT_PLAN_UNSIGNED, and nothing is done on the host`, () => {
    const plan = buildPlan(`unsigned-${way}`);
    const r = run(way, ['run', '--id', `sig-unsigned-${way}`, '--allowed-signers', allowed, plan]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^ctc: error CT_PLAN_UNSIGNED: the plan ${plan} is not signed: there is no ${plan}\\.sig`));
    assert.match(r.stderr, /hint: sign it where it was reviewed: `ctc sign /);
    assertNothingDone('unsigned');
  });

  test(`${way}: one byte of a signed plan changed (and re-digested: a valid plan) is CT_PLAN_SIGNATURE, nothing done`, () => {
    const plan = buildPlan(`edited-${way}`);
    sshSign(ci, plan);
    const text = readFileSync(plan, 'utf8');
    const edited = resign(text.replace('/marker', '/markes'));
    assert.is(parsePlan(edited, plan).steps.length, parsePlan(text, plan).steps.length, 'the edited plan reads as a plan, digest and all');
    writeFileSync(plan, edited);
    const r = run(way, ['run', '--id', `sig-edited-${way}`, '--allowed-signers', allowed, plan]);
    assert.is(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^ctc: ${plan}\\.sig: error CT_PLAN_SIGNATURE: does not verify over ${plan} \\(ED25519 key SHA256:\\S+\\): the plan changed after it was signed`,
      ),
    );
    assertNothingDone('edited');
    assert.not.ok(existsSync(join(rootfs, 'markes')), 'nor the edited process');
  });

  test(`${way}: a plan signed by a key the allowed signers do not list is CT_PLAN_SIGNATURE, nothing done`, () => {
    const plan = buildPlan(`stranger-${way}`);
    sshSign(stranger, plan);
    const r = run(way, ['run', '--id', `sig-stranger-${way}`, '--allowed-signers', allowed, plan]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error CT_PLAN_SIGNATURE: signed by ED25519 key SHA256:\\S+, which is not in ${allowed}`));
    assertNothingDone('stranger');
  });

  test(`${way}: a signature the allowed key made for another namespace is CT_PLAN_SIGNATURE, nothing done`, () => {
    const plan = buildPlan(`namespace-${way}`);
    sshSign(ci, plan, 'file');
    const r = run(way, ['run', '--id', `sig-ns-${way}`, '--allowed-signers', allowed, plan]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /error CT_PLAN_SIGNATURE: signed for the namespace 'file', not 'ctc-plan'/);
    assertNothingDone('namespace');
  });
}

test('the config --config names: allowedSigners (relative to the config) refuses an unsigned plan and runs a signed one', () => {
  mkdirSync(at('cfg'));
  const config = at('cfg/ctc.config.json'); // in a folder of its own: the builds here must not find it
  copyFileSync(allowed, at('cfg/ci_signers'));
  writeFileSync(config, JSON.stringify({ allowedSigners: './ci_signers' }));
  const plan = buildPlan('configured');
  for (const way of ways) {
    const r = run(way, ['--config', config, 'run', '--id', `sig-cfg-${way}`, plan]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /error CT_PLAN_UNSIGNED: .* there is no .*configured\.plan\.sig, and .*ci_signers says who must sign/);
    assertNothingDone(`config, ${way}`);
  }
  assert.is(ctc(['sign', plan, '--key', ci]).status, 0);
  const r = run('launcher', ['--config', config, 'run', '--id', 'sig-cfg-signed', plan]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /signed by ci@example/);
  rmSync(marker);
});

test('a run image cached for a plan does not let it skip the check: the launcher hands every --allowed-signers run to Node', () => {
  const plan = buildPlan('warm');
  const NO_NODE = { CTC_NODE: '/nonexistent/node' };
  assert.is(run('node', ['run', '--id', 'sig-warm', plan]).status, 0, 'a run without signers writes the image');
  rmSync(marker);
  assert.is(run('launcher', ['run', '--id', 'sig-warm', plan], NO_NODE).status, 0, 'warm: the launcher runs it without Node');
  rmSync(marker);
  const handed = run('launcher', ['run', '--id', 'sig-warm', '--allowed-signers', allowed, plan], NO_NODE);
  assert.is(handed.status, 127, handed.stderr);
  assert.match(handed.stderr, /CT_NODE_MISSING/, 'with allowed signers: handed to Node, not run from the image');
  const refused = run('launcher', ['run', '--id', 'sig-warm', '--allowed-signers', allowed, plan]);
  assert.match(refused.stderr, /error CT_PLAN_UNSIGNED/);
  assertNothingDone('warm');
});

test('ctc run --bundle with allowed signers: a bundle carries no signature, CT_PLAN_UNSIGNED, nothing done', () => {
  const dir = at('bundle');
  busyboxBundle(dir, { id: 'sig-bundle', args: ['/bin/touch', '/marker'] });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), root: { path: rootfs } }));
  for (const way of ways) {
    const r = run(way, ['run', '--allowed-signers', allowed, '--bundle', dir, 'sig-bundle']);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /error CT_PLAN_UNSIGNED: a bundle is compiled here and carries no signature/);
    assertNothingDone(`bundle, ${way}`);
  }
});

test('allowed signers: a key listed only for other namespaces, a line past valid-before, cert-authority, a file others can write', () => {
  const plan = buildPlan('options');
  sshSign(ci, plan);
  const cases: [string, RegExp][] = [
    [
      `ci@example namespaces="git,file" ${publicPart(ci)}\n`,
      /CT_PLAN_SIGNATURE: signed by ED25519 key \S+, which is listed \(\S+:1\) but not for namespace 'ctc-plan'/,
    ],
    [`ci@example namespaces="*,!ctc-plan" ${publicPart(ci)}\n`, /CT_PLAN_SIGNATURE: .* but not for namespace 'ctc-plan'/],
    [`ci@example valid-before="20200101Z" ${publicPart(ci)}\n`, /CT_PLAN_SIGNATURE: .* but not for namespace 'ctc-plan' at this time/],
    [
      `ci@example cert-authority ${publicPart(ci)}\n`,
      /:1: error CT_ALLOWED_SIGNERS: cert-authority \(signatures by certificates\) is not supported/,
    ],
    [`ci@example namespace="ctc-plan" ${publicPart(ci)}\n`, /:1: error CT_ALLOWED_SIGNERS: unknown option 'namespace'/],
    [`ci@example ssh-ed25519 AAAA!!\n`, /:1: error CT_ALLOWED_SIGNERS: not a public key ctc reads/],
  ];
  for (const [line, expected] of cases) {
    const signers = at('case_signers');
    writeFileSync(signers, line);
    const r = run('node', ['run', '--id', 'sig-options', '--allowed-signers', signers, plan]);
    assert.is(r.status, 1, `${line}: ${r.stderr}`);
    assert.match(r.stderr, expected, line);
  }
  const signers = at('case_signers');
  writeFileSync(signers, `"ci@example,ops@*" namespaces="ctc-*",valid-after="20200101" ${publicPart(ci)}\n`);
  const ok = run('node', ['run', '--id', 'sig-options', '--allowed-signers', signers, plan]);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /signed by ci@example,ops@\*/);
  rmSync(marker);
  chmodSync(signers, 0o666);
  const open = run('node', ['run', '--id', 'sig-options', '--allowed-signers', signers, plan]);
  assert.match(open.stderr, /error CT_ALLOWED_SIGNERS: .*case_signers is owned by uid 0 with mode 0666: not read/);
  assertNothingDone('options');
});

test('ctc sign: an encrypted key is CT_SIGN_KEY with a hint; a symlink at PLAN.sig is replaced, never written through', () => {
  const plan = buildPlan('keys');
  const locked = keygen('locked', ['-t', 'ed25519'], ['-N', 'secret passphrase']);
  const r = ctc(['sign', plan, '--key', locked]);
  assert.is(r.status, 1);
  assert.match(
    r.stderr,
    /^ctc: error CT_SIGN_KEY: \S+locked: the key is encrypted \(aes256-ctr\) with a passphrase\n {2}hint: ctc signs with an unencrypted key/,
  );
  assert.not.ok(existsSync(`${plan}.sig`), 'no signature is written');
  const notKey = ctc(['sign', plan, '--key', `${ci}.pub`]);
  assert.match(notKey.stderr, /error CT_SIGN_KEY: .*ci\.pub: not an OpenSSH private key/);
  const victim = at('victim');
  writeFileSync(victim, 'the victim\n');
  symlinkSync(victim, `${plan}.sig`);
  assert.is(ctc(['sign', plan, '--key', ci]).status, 0);
  assert.is(readFileSync(victim, 'utf8'), 'the victim\n', 'the file the link pointed at is untouched');
  assert.ok(lstatSync(`${plan}.sig`).isFile(), 'the link became the signature');
});

test.run();
