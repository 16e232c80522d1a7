// Builds what ctc runs from: the native programs (with the system C compiler),
// the bundled CLI, its man page and the build snapshot. Two ways in:
// - from the sources (a clone: `npm ci`, `npm run build`, `npm pack`'s
//   prepack): everything, esbuild (a devDependency) bundling the CLI;
// - from a packed package (`npm install -g ctc-compiler-X.tgz`, or a
//   project's devDependency: its install script): there are no sources and
//   no devDependencies; the tarball holds the bundles (dist/ctc.mjs, its
//   chunks, dist/build-snapshot.cjs) and the man page, made by prepack, and
//   only what belongs to this host is built: the native programs (this C
//   library, static) and the snapshot (this node binary).

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });
/** The package's TypeScript sources are here: a clone, not an installed package (which ships no cli/). */
const fromSources = existsSync(join(root, 'cli', 'main.ts'));

function buildHelper() {
  const cc = process.env.CC || 'cc';
  if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).error) {
    console.error(
      `ctc: building the native helper needs a C compiler, and '${cc}' was not found.\n` +
        '     On Debian or Ubuntu: apt-get install gcc libc6-dev (or build-essential), then install ctc again.',
    );
    process.exit(1);
  }
  // The .c files of one directory, in a stable order.
  const cFiles = (...dir) =>
    readdirSync(join(root, ...dir))
      .filter((f) => f.endsWith('.c'))
      .sort()
      .map((f) => join(root, ...dir, f));
  // native/*.c and native/common/*.c: shared by both programs (the journal check and its JSON reader, the plan reader).
  const shared = [...cFiles('native'), ...(existsSync(join(root, 'native', 'common')) ? cFiles('native', 'common') : [])];
  const flags = ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];
  // Static: a detached container's monitor (ctc-init) then holds only the pages it
  // touched of its own sealed copy, well under 1 MiB, instead of a dynamic libc's.
  if (!existsSync('/usr/include/nettle/sha2.h')) {
    console.error(
      'ctc: building the native helpers needs nettle (SHA-256). On Debian or Ubuntu: apt-get install nettle-dev, then install ctc again.',
    );
    process.exit(1);
  }
  // nettle: the journal check (native/journal-check.c, journal-plan.c) hashes the plan.
  // ctc-init (native/init/ctc-init.h): the container's init and monitor, and its one-shot modes.
  execFileSync(cc, [...flags, '-static', '-o', join(dist, 'ctc-init'), ...cFiles('native', 'init'), ...shared, '-lnettle'], {
    stdio: 'inherit',
  });
  // The launcher (native/launcher/launcher.h): `ctc` itself, answering the hot commands without Node.
  const launcher = cFiles('native', 'launcher');
  // The config places, from the one list compiler/config.ts uses: those it reads and the scripts it refuses (both Node's to handle).
  const { read, scripts } = JSON.parse(readFileSync(join(root, 'compiler', 'config-places.json'), 'utf8'));
  const places = [...read, ...scripts];
  mkdirSync(join(dist, 'gen'), { recursive: true });
  writeFileSync(join(dist, 'gen', 'config-places.h'), `#define CONFIG_PLACES ${places.map((p) => JSON.stringify(p)).join(', ')}\n`);
  execFileSync(
    cc,
    [
      ...flags,
      '-I',
      join(dist, 'gen'),
      '-o',
      join(dist, 'ctc'),
      ...launcher,
      join(root, 'native', 'init', 'device-filter.c'),
      ...shared,
      '-static',
      '-lnettle',
    ],
    {
      stdio: 'inherit',
    },
  );
}

async function bundleCli() {
  const { build } = await import('esbuild');
  rmSync(join(dist, 'chunks'), { recursive: true, force: true }); // chunks of earlier builds

  await build({
    entryPoints: { ctc: join(root, 'cli', 'main.ts') },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ESM builds first: a UMD build's dynamic require() cannot live in an ESM bundle (jsonc-parser).
    // The compiler API stays a separate package, loaded only by `ctc build`.
    // cosmiconfig (ctc lint's config) is CommonJS that requires node's modules at
    // run time, which an ESM bundle cannot; it stays a package too.
    external: ['typescript', 'cosmiconfig'],
    // ESM builds first: jsonc-parser's UMD main requires its parts dynamically,
    // which a bundle cannot resolve.
    mainFields: ['module', 'main'],
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

// `ctc build` runs from a V8 startup snapshot holding TypeScript loaded, its
// functions compiled, and the lib .d.ts files and the stdlib parsed and bound
// (cli/build-snapshot.ts): ~0.5 s cold, not ~2.3 s. Made here, for this node
// binary; cli/snapshot.ts uses it only if build.blob.json still describes this
// node, this typescript.js and this dist/ctc.mjs, and builds in-process otherwise.
// If making it fails, the build goes on: `ctc build` is then only slower.
/**
 * V8 flags of the build process started from the snapshot. Without Sparkplug:
 * a build is too short for baseline code to pay for compiling it (~30 ms less).
 */
const snapshotV8Flags = ['--no-sparkplug'];

// Another build may run at the same time: each writes its own files, then renames.
const tmp = (file) => `${file}.${process.pid}.tmp`;
/** The snapshot's script: cli/build-snapshot.ts and TypeScript, one CommonJS file (node --build-snapshot runs one file). Shipped in the package. */
const snapshotScript = join(dist, 'build-snapshot.cjs');

async function bundleSnapshotScript() {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'cli', 'build-snapshot.ts')],
    outfile: tmp(snapshotScript),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    // Less to deserialize at each start (19 MB, not 26). CTC_NO_SNAPSHOT=1
    // builds from the sources, for readable stack traces.
    minify: true,
    // A snapshot script is one file: TypeScript goes in too. import.meta.url
    // (common/package.ts) is the bundle's own URL. Where typescript.js is on
    // this host is read when the snapshot is made (CTC_TYPESCRIPT_JS, below).
    define: { 'import.meta.url': '__ctcScriptUrl' },
    banner: { js: 'var __ctcScriptUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [
      {
        // Node has not verified these built-ins for snapshots: they are
        // required at their first use, at run time. perf_hooks is TypeScript's
        // and not needed (it falls back to the global `performance`).
        name: 'snapshot-builtins',
        setup(b) {
          const builtins = /^(node:)?(vm|child_process|perf_hooks)$/;
          b.onResolve({ filter: builtins, namespace: 'file' }, (a) => ({ path: a.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
          b.onResolve({ filter: builtins, namespace: 'lazy-builtin' }, (a) => ({ path: a.path, external: true }));
          b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => ({
            contents:
              a.path === 'perf_hooks'
                ? 'module.exports = {};'
                : `let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:${a.path}'))[k] });`,
            loader: 'js',
          }));
        },
      },
    ],
    logLevel: 'warning',
  });
  renameSync(tmp(snapshotScript), snapshotScript);
}

async function buildSnapshot() {
  const { createHash } = await import('node:crypto');
  const { createRequire } = await import('node:module');
  const { readFileSync, renameSync, rmSync, statSync, writeFileSync } = await import('node:fs');
  const blob = join(dist, 'build.blob');
  const manifest = join(dist, 'build.blob.json');
  const typescriptJs = createRequire(import.meta.url).resolve('typescript');
  rmSync(manifest, { force: true });
  // The V8 flags must be the ones cli/snapshot.ts runs the blob with.
  const r = spawnSync(process.execPath, ['--no-sparkplug', '--snapshot-blob', tmp(blob), '--build-snapshot', snapshotScript], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CTC_TYPESCRIPT_JS: typescriptJs },
  });
  if (r.status !== 0) {
    rmSync(tmp(blob), { force: true });
    console.error('ctc: warning: could not make the build snapshot; `ctc build` will load TypeScript each time (slower)');
    return;
  }
  // The fields of SnapshotManifest in cli/snapshot.ts.
  // (The native launcher reads it too: native/launcher/build.c.)
  const stamp = (file) => {
    const st = statSync(file, { bigint: true });
    return `${st.size}:${st.mtimeNs}`;
  };
  const made = {
    node: process.version,
    arch: process.arch,
    root,
    cli: createHash('sha256')
      .update(readFileSync(join(dist, 'ctc.mjs')))
      .digest('hex'),
    nodePath: process.execPath,
    typescriptPath: typescriptJs,
    files: { [process.execPath]: stamp(process.execPath), [typescriptJs]: stamp(typescriptJs) },
    v8Flags: snapshotV8Flags,
  };
  renameSync(tmp(blob), blob);
  writeFileSync(tmp(manifest), JSON.stringify(made, null, 2) + '\n');
  renameSync(tmp(manifest), manifest);
}

/** dist/ctc.1 from the help texts (cli/man.ts), bundled and run once. */
async function buildManPage() {
  const { build } = await import('esbuild');
  const script = join(dist, `man.${process.pid}.tmp.mjs`);
  await build({
    stdin: { contents: "import { manPage } from './cli/man.ts'; process.stdout.write(await manPage());", resolveDir: root, loader: 'ts' },
    outfile: script,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['typescript', 'cosmiconfig'],
    logLevel: 'warning',
  });
  const page = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  rmSync(script, { force: true });
  writeFileSync(tmp(join(dist, 'ctc.1')), page);
  renameSync(tmp(join(dist, 'ctc.1')), join(dist, 'ctc.1'));
}

if (!fromSources) {
  // An installed package: the bundles must have come in the tarball.
  for (const file of ['ctc.mjs', 'build-snapshot.cjs']) {
    if (!existsSync(join(dist, file))) {
      console.error(
        `ctc: this package has no dist/${file}: it was packed without its build (npm pack runs scripts/build.mjs first; was it --ignore-scripts?)`,
      );
      process.exit(1);
    }
  }
}
buildHelper();
if (fromSources) {
  await bundleCli();
  chmodSync(join(dist, 'ctc.mjs'), 0o755);
  await bundleSnapshotScript();
  await buildManPage();
}
await buildSnapshot();
