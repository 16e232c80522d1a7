// What `ctc init` writes: a starter container source (app.ct.ts, or app.ct)
// that builds and runs as it is, for app.ct.ts a tsconfig.json that lets an
// editor (and tsc) type-check it against ctc's stdlib, a package.json naming
// ctc's package (and typescript) when the folder is a new npm project, and a
// ctc config. The project's `rootfs` and `presets` settings are written into
// the source, spelled out: the compiler never reads them, so a plan stays a
// function of its source alone. Nothing written holds an absolute path: the
// project can be committed and cloned elsewhere.

import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { PACKAGE_NAME, packageManifest, packageRoot } from '../common/package.ts';
import type { PresetName, Presets, RootfsSetting } from './config.ts';
import { projectRoot, realDir } from './confine.ts';

export type Lang = 'ts' | 'ct';

export interface ScaffoldInput {
  /** the folder to scaffold, absolute */
  dir: string;
  lang: Lang;
  rootfs: RootfsSetting;
  presets: Presets;
  /** write a ctc config (not where one in a parent folder already applies: it would hide it) */
  config: boolean;
  npm: NpmLayout;
}

/** How the project reaches ctc's package (npmLayout). */
export interface NpmLayout {
  /** ctc's package folder, relative to the project's folder: './node_modules/ctc-compiler', '..' */
  ctcPackage: string;
  /** write package.json: the folder is a new npm project, ctc and typescript its devDependencies */
  packageJson: boolean;
  /** where `npm install` puts ctc's package, relative ('.', '..'); undefined when the ctc running now is already the project's */
  installIn?: string;
  /** the ctc running now is the project's devDependency (run it as `npx ctc`), not a checkout's or a global one */
  npx: boolean;
}

export interface ScaffoldFile {
  /** relative to the folder */
  name: string;
  text: string;
}

/** How each preset choice is written in a .ct.ts: the field, its place, the expression, and what it imports. */
const presetSource: { [K in PresetName]: { inProcess: boolean; choices: Record<Presets[K], { expr: string; imports: string[] }> } } = {
  mounts: {
    inProcess: false,
    choices: { default: { expr: 'defaultMounts', imports: ['defaultMounts'] }, none: { expr: '[]', imports: [] } },
  },
  maskedPaths: {
    inProcess: false,
    choices: { default: { expr: 'maskedPaths.default', imports: ['maskedPaths'] }, none: { expr: '[]', imports: [] } },
  },
  readonlyPaths: {
    inProcess: false,
    choices: { default: { expr: 'readonlyPaths.default', imports: ['readonlyPaths'] }, none: { expr: '[]', imports: [] } },
  },
  capabilities: {
    inProcess: true,
    choices: { default: { expr: 'defaultCapabilities', imports: ['defaultCapabilities'] }, none: { expr: '[]', imports: [] } },
  },
  seccomp: {
    inProcess: true,
    choices: { default: { expr: 'defaultSeccomp', imports: ['defaultSeccomp'] }, unconfined: { expr: "'unconfined'", imports: [] } },
  },
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
          { name: 'tsconfig.json', text: tsconfig(input.npm) },
        ];
  if (input.npm.packageJson) files.push({ name: 'package.json', text: packageJson(input) });
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

/** `to` relative to `from`, as a path a config file names: './x', '..', '.'. */
const rel = (from: string, to: string) => {
  const r = relative(from, to);
  return r === '' ? '.' : r.startsWith('..') ? r : `./${r}`;
};

/**
 * Where the project in `dir` finds ctc's package. The ctc running now, when
 * `dir` is inside its checkout or inside the project whose node_modules holds
 * it (`npx ctc init web`). Otherwise the one `npm install` will put in the
 * node_modules of the npm project `dir` belongs to: its project root (the
 * nearest folder up with .git or package.json, as ctc's own), or `dir`
 * itself, made a new npm project (package.json) when it is none.
 */
export function npmLayout(dir: string): NpmLayout {
  const self = realDir(packageRoot());
  const here = realDir(dir);
  const cut = self.lastIndexOf('/node_modules/');
  const home = cut >= 0 ? self.slice(0, cut) || '/' : self;
  if (here === home || here.startsWith(`${home}/`)) return { ctcPackage: rel(here, self), packageJson: false, npx: cut >= 0 };
  const root = projectRoot(here);
  return {
    ctcPackage: rel(here, join(root, 'node_modules', PACKAGE_NAME)),
    packageJson: root === here && !existsSync(join(here, 'package.json')),
    installIn: rel(here, root),
    npx: false,
  };
}

/**
 * The compiler options ctc's frontend checks a source with (frontend/ts.ts),
 * with 'ctc' and 'ctc/lint' mapped to ctc's stdlib, by a relative path (so
 * `npx tsc --noEmit` checks the project as `ctc build` does).
 */
function tsconfig(npm: NpmLayout): string {
  const stdlib = `${npm.ctcPackage}/stdlib`;
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
      paths: { ctc: [`${stdlib}/index.ts`], 'ctc/lint': [`${stdlib}/lint.ts`] },
    },
    // the sources, and lint plugins (policy/*.ts) that import 'ctc/lint'
    include: ['**/*.ts'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** A name npm takes, from the folder's. */
const npmName = (dir: string) =>
  basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214) || 'containers';

/** A new npm project: ctc (the version running now, and later ones of its minor) and the typescript ctc checks with, for tsc and editors. */
function packageJson({ dir, lang }: ScaffoldInput): string {
  const manifest = packageManifest();
  const source = lang === 'ts' ? 'app.ct.ts' : 'app.ct';
  const devDependencies: Record<string, string> = { [PACKAGE_NAME]: `^${manifest.version}` };
  if (lang === 'ts') devDependencies.typescript = manifest.dependencies.typescript;
  const scripts: Record<string, string> = { build: `ctc build ${source}`, check: 'ctc check' };
  if (lang === 'ts') scripts.typecheck = 'tsc --noEmit';
  // allowScripts: an npm that runs a dependency's install script only once
  // the project allows it (npm install-scripts) runs ctc's, which builds its
  // native programs; older npms ignore the field.
  const pkg = { name: npmName(dir), version: '0.1.0', private: true, scripts, devDependencies, allowScripts: { [PACKAGE_NAME]: true } };
  return JSON.stringify(pkg, null, 2) + '\n';
}

/** Policy to start from: the scaffold passes it, and it fails a container that drops its limits. */
function configText(): string {
  return JSON.stringify({ lint: { rules: { 'limits-required': 'error' } } }, null, 2) + '\n';
}
