// `npm run stress [N]`: the concurrency tests (two creates of one id at once,
// in native.test.ts; 100 containers in parallel) N times in a row (default
// 10); stops at the first failure.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const times = Number(process.argv[2] ?? 10);
for (let i = 1; i <= times; i++) {
  const r = spawnSync(process.execPath, [join(root, 'test', 'run.mjs'), 'integration/parallel', 'integration/native'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const last = r.stdout.trim().split('\n').at(-1);
  console.log(`stress ${i}/${times}: ${last}`);
  if (r.status !== 0) {
    process.stdout.write(r.stdout);
    process.exit(1);
  }
}
