// What `ctc init` writes: a starter container source (app.ct.ts, or app.ct)
// that builds and runs as it is, for app.ct.ts a tsconfig.json that lets an
// editor type-check it against the installed ctc's stdlib, and a ctc config. The project's `rootfs` and
// `presets` settings are written into the source, spelled out: the compiler
// never reads them, so a plan stays a function of its source alone.

import { isAbsolute, join, relative } from 'node:path';
import { packageRoot } from '../common/package.ts';
import type { PresetName, Presets, RootfsSetting } from './config.ts';

export type Lang = 'ts' | 'ct';

export interface ScaffoldInput {
  /** the folder to scaffold, absolute */
  dir: string;
  lang: Lang;
  rootfs: RootfsSetting;
  presets: Presets;
  /** write a ctc config (not where one in a parent folder already applies: it would hide it) */
  config: boolean;
}

export interface ScaffoldFile {
  /** relative to the folder */
  name: string;
  text: string;
}

/** How each preset choice is written in a .ct.ts: the field, its place, the expression, and what it imports. */
const presetSource: { [K in PresetName]: { inProcess: boolean; choices: Record<Presets[K], { expr: string; imports: string[] }> } } = {
  mounts: { inProcess: false, choices: { default: { expr: 'defaultMounts', imports: ['defaultMounts'] }, none: { expr: '[]', imports: [] } } },
  maskedPaths: { inProcess: false, choices: { default: { expr: 'maskedPaths.default', imports: ['maskedPaths'] }, none: { expr: '[]', imports: [] } } },
  readonlyPaths: { inProcess: false, choices: { default: { expr: 'readonlyPaths.default', imports: ['readonlyPaths'] }, none: { expr: '[]', imports: [] } } },
  capabilities: { inProcess: true, choices: { default: { expr: 'defaultCapabilities', imports: ['defaultCapabilities'] }, none: { expr: '[]', imports: [] } } },
  seccomp: { inProcess: true, choices: { default: { expr: 'defaultSeccomp', imports: ['defaultSeccomp'] }, unconfined: { expr: "'unconfined'", imports: [] } } },
};

/** The same choices in a .ct file: its words for them. */
const presetCt: { [K in PresetName]: Record<Presets[K], string> } = {
  mounts: { default: 'use preset.defaultMounts', none: '{}' },
  maskedPaths: { default: 'use preset.maskedPaths.default', none: '{}' },
  readonlyPaths: { default: 'use preset.readonlyPaths.default', none: '{}' },
  capabilities: { default: 'use preset.defaultCapabilities', none: '{}' },
  seccomp: { default: 'use preset.defaultSeccomp', unconfined: 'unconfined' },
};

export function scaffold(input: ScaffoldInput): ScaffoldFile[] {
  // A .ct file needs no TypeScript: no tsconfig.
  const files =
    input.lang === 'ct'
      ? [{ name: 'app.ct', text: ctSource(input) }]
      : [
          { name: 'app.ct.ts', text: tsSource(input) },
          { name: 'tsconfig.json', text: tsconfig(input.dir) },
        ];
  if (input.config) files.push({ name: 'ctc.config.json', text: configText() });
  return files;
}

function tsSource({ rootfs, presets }: ScaffoldInput): string {
  const imports = new Set(['container', rootfs === 'host' ? 'hostRootfs' : 'dirRootfs']);
  const field = (name: PresetName) => {
    const { expr, imports: names } = (presetSource[name].choices as Record<string, { expr: string; imports: string[] }>)[presets[name]];
    names.forEach((n) => imports.add(n));
    return `${name}: ${expr},`;
  };
  const rootfsExpr =
    rootfs === 'host' ? 'hostRootfs()' : `dirRootfs(${JSON.stringify(rootfs.dir)}${rootfs.readonly ? ', { readonly: true }' : ''})`;
  const top = (['mounts', 'maskedPaths', 'readonlyPaths'] as const).map(field);
  const inProcess = (['capabilities', 'seccomp'] as const).map(field);
  return `// A starter container. \`ctc build app.ct.ts\` compiles it to app.plan (the
// kernel steps, for review); \`ctc run\` runs that plan. The presets are
// written out so the source says everything: edit them here.
import { ${[...imports].sort().join(', ')} } from 'ctc';

export default container({
  hostname: 'app',
  rootfs: ${rootfsExpr},
  ${top.join('\n  ')}
  resources: { memory: { limit: '64Mi' }, pids: { limit: 32 } },
  process: {
    args: ['/bin/sh', '-c', 'echo "hello from $(hostname), pid $$"'],
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
    ${inProcess.join('\n    ')}
  },
});
`;
}

function ctSource({ rootfs, presets }: ScaffoldInput): string {
  const ct = (name: PresetName) => `${name} ${(presetCt[name] as Record<string, string>)[presets[name]]}`;
  const word = (s: string) => (/^[A-Za-z0-9_./:=+-]+$/.test(s) ? s : JSON.stringify(s));
  const rootfsCt =
    rootfs === 'host'
      ? 'rootfs use preset.hostRootfs'
      : `rootfs {\n    kind dir\n    path ${word(rootfs.dir)}\n    readonly ${rootfs.readonly}\n  }`;
  return `# A starter container. \`ctc build app.ct\` compiles it to app.plan (the
# kernel steps, for review); \`ctc run\` runs that plan. The presets are
# written out so the source says everything: edit them here.
container {
  hostname app
  ${rootfsCt}
  ${(['mounts', 'maskedPaths', 'readonlyPaths'] as const).map(ct).join('\n  ')}
  resources {
    memory.limit 64Mi
    pids.limit 32
  }
  process {
    args /bin/sh -c "echo \\"hello from $(hostname), pid $$\\""
    env PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    ${(['capabilities', 'seccomp'] as const).map(ct).join('\n    ')}
  }
}
`;
}

/**
 * The compiler options ctc's frontend checks a source with (frontend/ts.ts),
 * with 'ctc' and 'ctc/lint' mapped to this ctc's stdlib: relative when ctc
 * is installed inside the project (node_modules), absolute otherwise.
 */
function tsconfig(dir: string): string {
  const stdlib = join(packageRoot(), 'stdlib');
  const rel = relative(dir, stdlib);
  const base = rel.startsWith('..') || isAbsolute(rel) ? stdlib : `./${rel}`;
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'bundler',
      allowImportingTsExtensions: true,
      types: [],
      lib: ['ES2022'],
      skipLibCheck: true,
      paths: { ctc: [`${base}/index.ts`], 'ctc/lint': [`${base}/lint.ts`] },
    },
    // the sources, and lint plugins (policy/*.ts) that import 'ctc/lint'
    include: ['**/*.ts'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** Policy to start from: the scaffold passes it, and it fails a container that drops its limits. */
function configText(): string {
  return JSON.stringify({ lint: { rules: { 'limits-required': 'error' } } }, null, 2) + '\n';
}
