// A scratch git repository laid out as a real project's containers are, for
// the repository-wide check, lint and diff: nested folders, a TypeScript
// source importing a helper module from elsewhere in the repository, a .ct
// source, their committed plans. Made in a temp dir, removed by `remove`.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { ctc, tempDir } from './helpers.ts';
import { writeSource } from './sources.ts';

/** A container with limits (so the default lint rules pass) whose hostname comes from lib/common.ct.ts. */
export const webSource = (caps = 'defaultCapabilities') => `import { container, defaultCapabilities, defaultMounts, hostRootfs } from 'ctc';
import { hostname } from '../../lib/common.ct.ts';

export default container({
  hostname,
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  resources: { memory: { limit: '64Mi' }, pids: { limit: 32 } },
  process: {
    args: ['/bin/true'],
    capabilities: ${caps},
  },
});
`;

export const dbSource = `container {
  hostname db
  rootfs use preset.hostRootfs
  mounts use preset.defaultMounts
  process {
    args /bin/true
  }
}
`;

export interface ScratchRepo {
  dir: string;
  git: (...args: string[]) => string;
  write: (rel: string, text: string) => string;
  read: (rel: string) => string;
  exists: (rel: string) => boolean;
  remove: (rel: string) => void;
  /** `ctc build` of a source, its plan written beside it */
  build: (rel: string) => void;
  done: () => void;
}

/** services/web/app.ct.ts (importing lib/common.ct.ts) and services/db/app.ct, built and committed on main. */
export function scratchRepo(): ScratchRepo {
  const tmp = tempDir('ctc-repo-');
  const dir = tmp.dir;
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    assert.is(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const repo: ScratchRepo = {
    dir,
    git,
    write: (rel, text) => writeSource(dir, rel, text),
    read: (rel) => readFileSync(join(dir, rel), 'utf8'),
    exists: (rel) => existsSync(join(dir, rel)),
    remove: (rel) => rmSync(join(dir, rel)),
    build: (rel) => {
      const r = ctc(['build', rel], { cwd: dir });
      assert.is(r.status, 0, r.stderr);
    },
    done: tmp.remove,
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'ctc test');
  git('config', 'user.email', 'ctc-test@example.invalid');
  repo.write('lib/common.ct.ts', "export const hostname = 'web';\n");
  repo.write('services/web/app.ct.ts', webSource());
  repo.write('services/db/app.ct', dbSource);
  repo.build('services/web/app.ct.ts');
  repo.build('services/db/app.ct');
  git('add', '.');
  git('commit', '-q', '-m', 'two containers');
  return repo;
}
