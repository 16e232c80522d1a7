// Starts `ctc build` from the V8 startup snapshot made at install time
// (dist/build.blob, see cli/build-snapshot.ts and scripts/build.mjs), when
// there is one made for this node binary, this TypeScript and this build of ctc.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../common/package.ts';

/** What scripts/build.mjs (buildSnapshot) writes next to the blob: what it was made for. */
interface SnapshotManifest {
  node: string;
  arch: string;
  root: string;
  /** sha256 of dist/ctc.mjs, built from the same sources in the same run */
  cli: string;
  nodePath: string;
  typescriptPath: string;
  /** `size:mtimeNs` of the node binary and of typescript.js, by path */
  files: Record<string, string>;
  /** V8 flags for the build process */
  v8Flags: string[];
}

/** Node's exit status when it cannot deserialize the snapshot (other node, other V8 flags in NODE_OPTIONS). */
const SNAPSHOT_REFUSED = 14;

const stamp = (file: string) => {
  const st = statSync(file, { bigint: true });
  return `${st.size}:${st.mtimeNs}`;
};

function usable(root: string, made: SnapshotManifest): boolean {
  return (
    made.node === process.version &&
    made.arch === process.arch &&
    made.root === root &&
    made.files[process.execPath] !== undefined &&
    Object.entries(made.files).every(([file, st]) => stamp(file) === st) &&
    made.cli ===
      createHash('sha256')
        .update(readFileSync(join(root, 'dist', 'ctc.mjs')))
        .digest('hex')
  );
}

/** The exit status of the build run from the snapshot, or undefined when there is no usable snapshot. */
export function buildFromSnapshot(argv: string[]): number | undefined {
  if (process.env.CTC_NO_SNAPSHOT) return undefined;
  let blob: string;
  let made: SnapshotManifest;
  try {
    const root = packageRoot();
    blob = join(root, 'dist', 'build.blob');
    made = JSON.parse(readFileSync(join(root, 'dist', 'build.blob.json'), 'utf8'));
    if (!usable(root, made)) return undefined;
  } catch {
    return undefined;
  }
  // A build makes no network connection: node need not load extra CA
  // certificates at start (where that is set, ~90 ms of each node start).
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  // stderr is kept until the end, to leave out node's message if it refuses the snapshot.
  const r = spawnSync(process.execPath, [...made.v8Flags, '--snapshot-blob', blob, '--', ...argv], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env,
    maxBuffer: 256 << 20,
  });
  if (r.error) return undefined;
  if (r.status === SNAPSHOT_REFUSED) return undefined;
  process.stderr.write(r.stderr);
  if (r.signal) return 128 + (constants.signals[r.signal] ?? 0);
  return r.status ?? 1;
}
