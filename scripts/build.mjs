// Builds what ctc runs from: the native helper (with the system C compiler)
// and the bundled CLI. Runs at `npm install` / `npm ci` (the prepare script).

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

function buildHelper() {
  const cc = process.env.CC || 'cc';
  if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).error) {
    console.error(`ctc: building the native helper needs a C compiler, and '${cc}' was not found.\n` +
      '     On Debian or Ubuntu: apt-get install gcc libc6-dev (or build-essential), then npm install again.');
    process.exit(1);
  }
  const sources = readdirSync(join(root, 'native'))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(root, 'native', f));
  const flags = ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];
  // Static: a detached container's monitor (ctc-init) then holds only the pages it
  // touched of its own sealed copy, well under 1 MiB, instead of a dynamic libc's.
  execFileSync(cc, [...flags, '-static', '-o', join(dist, 'ctc-init'), ...sources], { stdio: 'inherit' });
  // The launcher (native/launcher/launcher.h): `ctc` itself, answering the hot commands without Node.
  const launcher = readdirSync(join(root, 'native', 'launcher'))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(root, 'native', 'launcher', f));
  if (!existsSync('/usr/include/nettle/sha2.h')) {
    console.error('ctc: building the launcher needs nettle (SHA-256). On Debian or Ubuntu: apt-get install nettle-dev, then npm install again.');
    process.exit(1);
  }
  execFileSync(cc, [...flags, '-o', join(dist, 'ctc'), ...launcher, join(root, 'native', 'device-filter.c'), '-static', '-lnettle'], { stdio: 'inherit' });
}

async function bundleCli() {
  const { build } = await import('esbuild');
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
    external: ['typescript'],
    // ESM builds first: jsonc-parser's UMD main requires its parts dynamically,
    // which a bundle cannot resolve.
    mainFields: ['module', 'main'],
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

buildHelper();
await bundleCli();
chmodSync(join(dist, 'ctc.mjs'), 0o755);
