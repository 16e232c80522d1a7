// Types for scripts/busybox-image.mjs (plain JS so it runs with node alone).

export const BUSYBOX: string;
export const MTIME: number;

export interface TarEntry {
  /** written as given: '../x' and '/x' included */
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'fifo' | 'char' | 'block';
  mode?: number;
  uid?: number;
  gid?: number;
  /** seconds since the epoch */
  mtime?: number;
  /** a symlink's target, or a hard link's archive path */
  linkname?: string;
  data?: string | Buffer;
  major?: number;
  minor?: number;
}

export interface ImageOptions {
  format?: 'oci' | 'docker';
  /** each layer's tar bytes, lowest first */
  layers: Buffer[];
  /** OCI only: gzip the layers */
  gzip?: boolean;
  /** merged into the image config (rootfs.diff_ids are filled in) */
  config?: Record<string, unknown>;
}

export function tarFile(entries: TarEntry[]): Buffer;
export function imageFiles(opts: ImageOptions): { files: { name: string; data: Buffer }[]; digest: string };
export function writeImage(target: string, opts: ImageOptions, where?: { dir?: boolean }): string;
export function busyboxLayers(): Buffer[];
export function busyboxImage(file: string, format?: 'oci' | 'docker'): string;
export function busyboxRootfs(dir: string): string;
