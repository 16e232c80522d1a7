import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stepKinds, type Step } from '../../compiler/plan/steps.ts';
import { encodeProgram, Msg, Op, WIRE_MAGIC, WIRE_VERSION, cloneFlags } from '../../executor/wire.ts';
import { root } from '../helpers.ts';

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
});

test('every init step kind has an encoder and the program header is what ctc-init reads', () => {
  const steps: Step[] = [
    { n: 4, kind: 'ns.unshare', args: { ns: ['cgroup'] } },
    { n: 5, kind: 'uts.hostname', args: { name: 'web' } },
    { n: 6, kind: 'proc.exec', args: { args: ['/bin/true'], env: ['A=1'] } },
  ];
  const program = encodeProgram({ cloneNs: ['mount', 'pid'], spawnStep: 3, failStep: 5 }, steps, []);
  const u32 = (i: number) => program.readUInt32LE(4 * i);
  assert.equal([u32(0), u32(1), u32(2), u32(3), u32(4), u32(5)], [WIRE_MAGIC, 1, cloneFlags.mount | cloneFlags.pid, 3, 5, 3]);
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

test.run();
