import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtcError } from '../../common/error.ts';
import { stepKinds, type Step } from '../../plan/steps.ts';
import {
  encodeProgram,
  goCommand,
  Msg,
  Op,
  op,
  record,
  strArg,
  u64Arg,
  WIRE_MAGIC,
  WIRE_VERSION,
  cloneFlags,
  NS_ALL,
} from '../../executor/native-bridge/wire.ts';
import { root, tempDir } from '../helpers.ts';

const header = readFileSync(join(root, 'native', 'wire.h'), 'utf8');
const cValue = (name: string) => {
  const m = new RegExp(`\\b${name}\\s*(?:=\\s*|\\s+)(0x[0-9a-fA-F]+|\\d+)u?\\b`).exec(header);
  if (!m) throw new Error(`${name} not in wire.h`);
  return Number(m[1]);
};

test('the op, message and header numbers match native/wire.h', () => {
  for (const [name, n] of Object.entries(Op)) assert.is(cValue(`CTC_OP_${name}`), n, name);
  for (const [name, n] of Object.entries(Msg)) assert.is(cValue(`CTC_MSG_${name}`), n, name);
  assert.is(cValue('CTC_WIRE_MAGIC'), WIRE_MAGIC);
  assert.is(cValue('CTC_WIRE_VERSION'), WIRE_VERSION);
  assert.is(cValue('CTC_NS_ALL'), NS_ALL);
});

test('every init step kind has an encoder and the program header is what ctc-init reads', () => {
  const steps: Step[] = [
    { n: 4, kind: 'ns.unshare', args: { ns: ['cgroup'] } },
    { n: 5, kind: 'uts.hostname', args: { name: 'web' } },
    { n: 6, kind: 'proc.exec', args: { args: ['/bin/true'], env: ['A=1'] } },
  ];
  const program = encodeProgram({ cloneNs: ['mount', 'pid'], spawnStep: 3, failStep: 5 }, steps, []);
  const u32 = (i: number) => program.readUInt32LE(4 * i);
  assert.equal([u32(0), u32(1), u32(2), u32(3), u32(4), u32(5)], [WIRE_MAGIC, WIRE_VERSION, cloneFlags.mount | cloneFlags.pid, 3, 5, 3]);
  assert.is(u32(6), program.length - 32, 'body length');
  // first record: unshare(CLONE_NEWCGROUP) for step 4
  assert.is(program.readUInt16LE(32 + 4), Op.UNSHARE);
  assert.is(program.readUInt32LE(32 + 8), 4);
  assert.is(Number(program.readBigUInt64LE(32 + 16)), cloneFlags.cgroup);
  // the hostname is a NUL-terminated string argument
  const second = 32 + program.readUInt32LE(32);
  assert.is(program.readUInt32LE(second + 12), 4);
  assert.is(program.subarray(second + 16, second + 20).toString('latin1'), 'web\0');
  const initKinds = Object.entries(stepKinds).filter(([, k]) => k.actor === 'init');
  assert.ok(initKinds.length > 10);
});

test('a NUL inside a string is refused before it is encoded, at its step (CT_PLAN_INVALID)', () => {
  const refused = (s: Step) => {
    try {
      encodeProgram({ cloneNs: [], spawnStep: 1, failStep: 0 }, [s], []);
    } catch (e) {
      return e as CtcError;
    }
    assert.unreachable(`${s.kind} with a NUL was encoded`);
  };
  for (const [s, what] of [
    [{ n: 9, kind: 'proc.exec', args: { args: ['A\0B'], env: [] }, source: 'app.ct.ts:3:9' }, 'args'],
    [{ n: 9, kind: 'proc.exec', args: { args: ['/bin/true'], env: ['FOO=x\0INJECTED=1'] }, source: 'app.ct.ts:3:9' }, 'env'],
    [{ n: 9, kind: 'uts.hostname', args: { name: 'web\0x' }, source: 'app.ct.ts:3:9' }, 'hostname'],
  ] as [Step, string][]) {
    const e = refused(s)!;
    assert.instance(e, CtcError, what);
    assert.is(e.code, 'CT_PLAN_INVALID', what);
    assert.equal(e.step, { n: 9, kind: s.kind }, what);
    assert.is(e.source, 'app.ct.ts:3:9', what);
  }
});

test('a LIST is its count, then the strings', () => {
  const program = encodeProgram(
    { cloneNs: [], spawnStep: 1, failStep: 0 },
    [{ n: 2, kind: 'proc.exec', args: { args: ['a', 'bc'], env: [] } }],
    [],
  );
  const args = program.subarray(32 + 12);
  assert.is(args.readUInt32LE(0), 4 + 5, 'the argument is 9 bytes');
  assert.is(args.readUInt32LE(4), 2, 'two strings');
  assert.is(args.subarray(8, 13).toString('latin1'), 'a\0bc\0');
  assert.equal([...args.subarray(13, 21)], [4, 0, 0, 0, 0, 0, 0, 0], 'the empty env: the count 0 alone');
});

// ctc-init's decoder, fed programs by hand as the executor sends them (fd 3).
// Needs root only for what an accepted program does (a fork on the host, no namespaces).

const list = (count: number, bytes: string) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(count);
  return Buffer.concat([b, Buffer.from(bytes, 'latin1')]);
};

/** A program of one exec op at step 2 (spawn step 1, no namespaces). */
function execProgram(argv: Buffer, env: Buffer): Buffer {
  const body = record(op(Op.EXEC, argv, env), 2);
  const head = Buffer.alloc(32);
  [WIRE_MAGIC, WIRE_VERSION, 0, 1, 0, 1, body.length, 0].forEach((v, i) => head.writeUInt32LE(v, 4 * i));
  return Buffer.concat([head, body]);
}

/** Sends the program, says GO once it is read, and returns what came back: messages, stderr, exit status. */
async function runHelper(program: Buffer, goAfter: number = Msg.PID): Promise<{ msgs: number[]; stderr: string; status: number | null }> {
  const child = spawn(join(root, 'dist', 'ctc-init'), [], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const socket = child.stdio[3] as Duplex;
  let stderr = '';
  let got = Buffer.alloc(0);
  child.stderr!.on('data', (d) => (stderr += d));
  socket.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d]);
    // GO once the monitor's messages are read (a detaching one sends MSG_DETACHED after MSG_PID)
    const last = got.length >= 16 && got.length % 16 === 0 ? got.readUInt32LE(got.length - 16) : 0;
    if (last === goAfter && (goAfter === Msg.DETACHED || got.length === 16)) socket.write(goCommand(0));
  });
  socket.on('error', () => {});
  socket.write(program);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const msgs = Array.from({ length: got.length / 16 }, (_, k) => got.readUInt32LE(16 * k));
  return { msgs, stderr, status };
}

test('ctc-init refuses a LIST whose strings are not its count (a NUL smuggled inside one): nothing runs', async () => {
  const tmp = tempDir('ctc-wire-');
  try {
    const marker = join(tmp.dir, 'marker');
    // one argument '/bin/touch\0<marker>' as a NUL-joined list would carry it: execve would touch the marker
    const smuggled = await runHelper(execProgram(list(1, `/bin/touch\0${marker}\0`), list(0, '')));
    assert.is(smuggled.status, 2, smuggled.stderr);
    assert.match(smuggled.stderr, /ctc-init: bad program: op 0 \(step 2\): arg 0: not a LIST of its count/);
    assert.equal(smuggled.msgs, [], 'nothing was sent: no clone, no pid');
    assert.not.ok(existsSync(marker), 'nothing ran');
    // and an env entry that is two
    const env = await runHelper(execProgram(list(1, '/bin/true\0'), list(1, 'FOO=x\0INJECTED=1\0')));
    assert.is(env.status, 2, env.stderr);
    assert.match(env.stderr, /arg 1: not a LIST of its count/);
    // the same bytes with their true count are two arguments, and run
    const counted = await runHelper(execProgram(list(2, `/bin/touch\0${marker}\0`), list(0, '')));
    assert.is(counted.stderr, '');
    assert.equal(counted.msgs, [Msg.PID, Msg.EXEC, Msg.EXIT]);
    assert.ok(existsSync(marker), 'the control ran: touch made the marker');
  } finally {
    tmp.remove();
  }
});

test('ctc-init refuses a STR with a NUL inside, a LIST cut short, and a count without its strings', async () => {
  const hostname = (name: string) => {
    const body = record(op(Op.HOSTNAME, Buffer.from(name, 'latin1')), 2);
    const head = Buffer.alloc(32);
    [WIRE_MAGIC, WIRE_VERSION, 0, 1, 0, 1, body.length, 0].forEach((v, i) => head.writeUInt32LE(v, 4 * i));
    return Buffer.concat([head, body]);
  };
  const str = await runHelper(hostname('web\0evil\0'));
  assert.is(str.status, 2);
  assert.match(str.stderr, /arg 0: not a STR/);
  for (const [argv, why] of [
    [list(1, '/bin/true'), 'not NUL-terminated'],
    [list(3, '/bin/true\0'), 'a count past the strings'],
    [Buffer.from([1, 0, 0]), 'shorter than a count'],
  ] as [Buffer, string][]) {
    const r = await runHelper(execProgram(argv, list(0, '')));
    assert.is(r.status, 2, why);
    assert.match(r.stderr, /arg 0: not a LIST of its count/, why);
    assert.equal(r.msgs, [], why);
  }
});

/** Monitor ops at the spawn step (1), then one exec at step 2; no namespaces. */
function monitored(monitor: ReturnType<typeof op>[], argv: string[]): Buffer {
  const body = Buffer.concat([
    ...monitor.map((o) => record(o, 1)),
    record(op(Op.EXEC, list(argv.length, argv.map((a) => a + '\0').join('')), list(0, '')), 2),
  ]);
  const head = Buffer.alloc(32);
  [WIRE_MAGIC, WIRE_VERSION, 0, 1, 0, monitor.length + 1, body.length, 0].forEach((v, i) => head.writeUInt32LE(v, 4 * i));
  return Buffer.concat([head, body]);
}

test('CTC_OP_M_LOG: the staying monitor writes both streams as CRI records, then the exit file; without M_DETACH it is a bad program', async () => {
  const tmp = tempDir('ctc-wire-log-');
  try {
    const [log, exit] = [join(tmp.dir, 'ctr.log'), join(tmp.dir, 'exit')];
    const alone = await runHelper(monitored([op(Op.M_LOG, strArg(log), u64Arg(65536))], ['/bin/true']));
    assert.is(alone.status, 2);
    assert.match(alone.stderr, /bad program: CTC_OP_M_LOG without CTC_OP_M_DETACH/);
    // caller 0: no subreaper probe, the monitor stays
    const detach = op(Op.M_DETACH, strArg(exit), u64Arg(0));
    const r = await runHelper(
      monitored([detach, op(Op.M_LOG, strArg(log), u64Arg(65536))], ['/bin/sh', '-c', 'echo out; echo err >&2; printf tail; exit 3']),
      Msg.DETACHED,
    );
    assert.is(r.stderr, '', "nothing on the caller's stderr");
    assert.equal(r.msgs, [Msg.PID, Msg.DETACHED, Msg.EXEC, Msg.EXIT]);
    assert.is(readFileSync(exit, 'utf8'), '3\n');
    const records = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /, 'T '));
    assert.equal(records, ['T stdout F out', 'T stderr F err', 'T stdout P tail']);
  } finally {
    tmp.remove();
  }
});

test('CTC_OP_M_LOG: a log that cannot be rotated (here ctr.log.1 is a directory) starts over, within its cap', async () => {
  const tmp = tempDir('ctc-wire-log-');
  try {
    const [log, exit] = [join(tmp.dir, 'ctr.log'), join(tmp.dir, 'exit')];
    mkdirSync(join(tmp.dir, 'ctr.log.1', 'x'), { recursive: true });
    const script =
      'i=0; while [ $i -lt 2000 ]; do echo "line $i ................................................................"; i=$((i+1)); done';
    const r = await runHelper(
      monitored([op(Op.M_DETACH, strArg(exit), u64Arg(0)), op(Op.M_LOG, strArg(log), u64Arg(65536))], ['/bin/sh', '-c', script]),
      Msg.DETACHED,
    );
    assert.is(r.stderr, '');
    assert.ok(statSync(log).size <= 65536, `${statSync(log).size} bytes`);
    assert.match(readFileSync(log, 'utf8'), /stdout F line 1999 \.+\n$/, 'the newest line is there');
    assert.not.ok(existsSync(join(tmp.dir, 'ctr.log.new')), 'no temporary file left');
  } finally {
    tmp.remove();
  }
});

test.run();
