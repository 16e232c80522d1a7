// The busybox image archive (examples/image.ct.ts, the image tests), and the
// tar and image writers behind it: the code lives in scripts/busybox-image.mjs
// so that `node scripts/busybox-image.mjs FILE.tar` runs it without a build.

export {
  BUSYBOX,
  MTIME,
  busyboxImage,
  busyboxLayers,
  busyboxRootfs,
  imageFiles,
  tarFile,
  writeImage,
  type ImageOptions,
  type TarEntry,
} from '../scripts/busybox-image.mjs';
