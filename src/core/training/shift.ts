/** Shifts of up to this many pixels (each way) augment the small classifiers' training batches. */
export const MAX_SHIFT = 2

/**
 * Writes `src` (uint8, size * size * channels) into `out` at `offset` as unit floats, shifted by a
 * random offset of up to MAX_SHIFT pixels each way (edges repeated): a label-preserving
 * augmentation for any kind of image, which keeps a classifier trained on a few dozen images per
 * class from learning them by heart.
 */
export function writeShifted(
  src: Uint8Array,
  out: Float32Array,
  offset: number,
  size: number,
  channels: number,
  rand: () => number,
): void {
  const dx = Math.floor(rand() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT
  const dy = Math.floor(rand() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT
  for (let r = 0; r < size; r++) {
    const sr = Math.min(size - 1, Math.max(0, r - dy))
    for (let c = 0; c < size; c++) {
      const sc = Math.min(size - 1, Math.max(0, c - dx))
      const from = (sr * size + sc) * channels
      const to = offset + (r * size + c) * channels
      for (let k = 0; k < channels; k++) out[to + k] = src[from + k] / 255
    }
  }
}
