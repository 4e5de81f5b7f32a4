export const FASHION_DIR: string
export const CLASS_NAMES: string[]
export function loadFashionMnist(split: 'train' | 't10k'): {
  n: number
  rows: number
  cols: number
  label: (i: number) => number
  pixels: (i: number) => Uint8Array
}
