// Seeds for the wire decoder fuzzer: the programs the executor really sends
// for the examples' plans (their init steps, as encodeProgram encodes them),
// one file each, in the directory given.
//
// Usage (run.sh does this): bundle with esbuild, then node make-corpus.mjs DIR

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../../compiler/build.ts';
import { actorOf, list } from '../../plan/steps.ts';
import { packageRoot } from '../../common/package.ts';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { fillStep } from '../../plan/placeholders.ts';
import { Op, encodeProgram, op, strArg, u64Arg } from '../../executor/native-bridge/wire.ts';

const out = process.argv[2];
mkdirSync(out, { recursive: true });
const examples = ['hello.ct.ts', 'limits.ct.ts'];
for (const name of examples) {
  const { plan } = await build(join(packageRoot(), 'examples', name));
  const steps = plan.steps.map((s) => fillStep(s, { id: 'fuzz', state: '/run/ctc/fuzz', root: '/run/ctc', cgroupParent: '/ctc' }));
  const clone = steps.find((s) => s.kind === 'ns.clone')!;
  const inits = steps.filter((s) => actorOf(s.kind) === 'init');
  const header = { cloneNs: list(clone, 'ns'), spawnStep: clone.n, failStep: 0 };
  const mounts = detectCgroups().mounts();
  writeFileSync(join(out, `${name}.run`), encodeProgram(header, inits, mounts));
  // create's variant: the monitor detaches and keeps the log, the init waits on the exec fifo
  const before = new Map([[inits[0].n, [op(Op.FIFO_OPEN, strArg('/run/ctc/fuzz/exec.fifo'))]]]);
  const monitor = [
    op(Op.M_DETACH, strArg('/run/ctc/fuzz/exit'), u64Arg(1)),
    op(Op.M_LOG, strArg('/run/ctc/fuzz/ctr.log'), u64Arg(10 << 20)),
  ];
  writeFileSync(join(out, `${name}.create`), encodeProgram(header, inits, mounts, { monitor, before }));
}
