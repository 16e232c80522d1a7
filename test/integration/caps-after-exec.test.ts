// The capability sets a plan prints (proc.caps after-exec=) are the ones the
// process holds once it has exec'd its program: read back from
// /proc/self/status inside a busybox container, for root and for nobody
// (a non-setuid busybox exec'd as uid 65534), with and without
// no_new_privs, for the list form and the five-set object form. A nobody
// process given CAP_NET_BIND_SERVICE as a list binds port 80 on the
// loopback of its own network namespace.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { capabilityNumbers, type Capability } from '../../stdlib/capabilities.ts';
import { busyboxRootfs } from '../busybox.ts';
import { ctc, hostResidue, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());
/** What the host holds of container ID (its cgroups and state dir): others' tests run at the same time. */
const residueOf = (id: string) => hostResidue().filter((e) => e.includes(id));
const rootfs = busyboxRootfs(join(tmp.dir, 'bb'));

const FIELDS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'];
const hex = (caps: string[]) =>
  caps
    .reduce((m, c) => m | (1n << BigInt(capabilityNumbers[c as Capability])), 0n)
    .toString(16)
    .padStart(16, '0');

/** The plan's after-exec= as /proc/self/status would show it. */
function printed(plan: string): Record<string, string> {
  const line = /after-exec=(\S+)/.exec(plan)?.[1];
  assert.ok(line, `the plan prints the sets after exec:\n${plan.split('\n').find((l) => l.includes('proc.caps'))}`);
  return Object.fromEntries(
    line.split('/').map((part) => [part.split(':')[0], hex(part.split(':')[1] === '-' ? [] : part.split(':')[1].split(','))]),
  );
}

const status = (out: string) => Object.fromEntries(FIELDS.map((f) => [f, new RegExp(`^${f}:\\s+(\\S+)$`, 'm').exec(out)?.[1]]));

function build(name: string, process: string, script: string) {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(
    src,
    `import { container, defaultMounts, dirRootfs } from 'ctc';\n` +
      `export default container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts,\n  process: { args: ['/bin/sh', '-c', ${JSON.stringify(script)}], ${process} } });\n`,
  );
  const b = ctc(['build', src]);
  assert.is(b.status, 0, b.stderr);
  return { build: b, plan: join(tmp.dir, `${name}.plan`) };
}

const NET = `['CAP_NET_BIND_SERVICE', 'CAP_KILL']`;
const cases: [string, string][] = [
  ['root-list', `capabilities: ${NET},`],
  [
    'root-object',
    `capabilities: { bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },`,
  ],
  ['root-default', ''],
  ['nobody-list', `user: 'nobody', capabilities: ${NET},`],
  ['nobody-uid-list', `user: { uid: 65534, gid: 65534 }, capabilities: ${NET},`],
  ['nobody-object', `user: 'nobody', capabilities: { bounding: ${NET}, effective: ${NET}, permitted: ${NET} },`],
  ['nobody-default', `user: 'nobody',`],
];

for (const nnp of [true, false]) {
  for (const [name, process] of cases) {
    test(`${name}${nnp ? '' : ', no no_new_privs'}: the plan's sets after exec are /proc/self/status's`, () => {
      const { plan } = build(`${name}-${nnp}`, `${process} noNewPrivileges: ${nnp},`, 'cat /proc/self/status');
      const r = ctc(['run', plan]);
      assert.is(r.status, 0, r.stderr);
      assert.equal(status(r.stdout), printed(readFileSync(plan, 'utf8')));
    });
  }
}

test('nobody given CAP_NET_BIND_SERVICE as a list binds port 80 on its own loopback', () => {
  const { plan } = build(
    'bind80',
    `user: 'nobody', capabilities: ['CAP_NET_BIND_SERVICE'],`,
    'id -u; httpd -f -p 127.0.0.1:80 & sleep 0.5; netstat -ltn | grep -c "127.0.0.1:80 "; kill $!',
  );
  const r = ctc(['run', plan]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['65534', '1'], `httpd listens on port 80 as uid 65534\n${r.stderr}`);
});

test('the object form without ambient for nobody warns at its source position, and its plan shows no such capability', () => {
  const { build: b, plan } = build(
    'lost',
    `user: 'nobody', capabilities: { bounding: ['CAP_NET_BIND_SERVICE'], effective: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'] },`,
    'true',
  );
  assert.match(
    b.stderr,
    /lost\.ct\.ts:3:\d+: warning CT_CAP_EXEC: process\.capabilities: the user nobody loses CAP_NET_BIND_SERVICE at execve: a process other than root keeps only its ambient capabilities\n  hint: give the capabilities as a list \(capabilities: \['CAP_NET_BIND_SERVICE'\]\)/,
  );
  assert.equal(printed(readFileSync(plan, 'utf8')), {
    CapInh: hex([]),
    CapPrm: hex([]),
    CapEff: hex([]),
    CapBnd: hex(['CAP_NET_BIND_SERVICE']),
    CapAmb: hex([]),
  });
});

test('a plan whose after-exec= was edited to claim more is refused before any step', () => {
  const { plan } = build(
    'edited',
    `user: 'nobody', capabilities: { bounding: ['CAP_NET_BIND_SERVICE'], effective: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'] },`,
    'true',
  );
  // the digest is a checksum anyone recomputes: edit the step and print the plan again
  const edited = parsePlan(readFileSync(plan, 'utf8'));
  const caps = edited.steps.find((s) => s.kind === 'proc.caps')!;
  caps.args['after-exec'] = String(caps.args['after-exec']).replace('CapPrm:-', 'CapPrm:CAP_NET_BIND_SERVICE');
  writeFileSync(plan, printPlan(edited));
  const r = ctc(['run', plan, '--id', 'caps-edited']);
  assert.is(r.status, 1);
  assert.match(
    r.stderr,
    /error CT_PLAN_INVALID: step \d+ proc\.caps: after-exec=CapInh:-\/CapPrm:CAP_NET_BIND_SERVICE\/.* is not what the plan's capability steps leave the process after its exec/,
  );
  assert.equal(residueOf('caps-edited'), []);
});

test("an rlimit above the host's hard limit, which ctc cannot raise, is refused before any step", () => {
  const hard = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
  const eff = BigInt(`0x${/^CapEff:\s+(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}`);
  const canRaise = ((eff >> 24n) & 1n) === 1n; // CAP_SYS_RESOURCE
  const { plan } = build('nofile', `rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: ${hard + 1} }],`, 'ulimit -Hn');
  const r = ctc(['run', plan, '--id', 'caps-nofile']);
  if (canRaise) {
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), String(hard + 1));
    return;
  }
  assert.is(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `error CT_RLIMIT_HARD: step \\d+ proc\\.rlimit: RLIMIT_NOFILE: the hard limit asked, ${hard + 1}, is above this host's hard limit ${hard}, and ctc cannot raise it \\(no CAP_SYS_RESOURCE\\)`,
    ),
  );
  assert.match(r.stderr, /nofile\.ct\.ts:3:\d+/, 'names the source position');
  assert.equal(residueOf('caps-nofile'), [], 'nothing was done on the host');
});

test.run();
