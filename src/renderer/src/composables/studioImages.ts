import type { StudioImage } from '../../../shared/studio'

/** RGBA pixels of a decoded image (gray, RGB or RGBA raw bytes, base64). */
export function toRgba(image: StudioImage): Uint8ClampedArray<ArrayBuffer> {
  const raw = atob(image.pixels)
  const n = image.size * image.size
  const out = new Uint8ClampedArray(new ArrayBuffer(n * 4))
  const ch = image.channels
  for (let p = 0; p < n; p++) {
    const o = p * ch
    if (ch === 1) {
      const v = raw.charCodeAt(o)
      out[p * 4] = out[p * 4 + 1] = out[p * 4 + 2] = v
      out[p * 4 + 3] = 255
    } else {
      out[p * 4] = raw.charCodeAt(o)
      out[p * 4 + 1] = raw.charCodeAt(o + 1)
      out[p * 4 + 2] = raw.charCodeAt(o + 2)
      out[p * 4 + 3] = ch === 4 ? raw.charCodeAt(o + 3) : 255
    }
  }
  return out
}

export function toImageData(image: StudioImage): ImageData {
  return new ImageData(toRgba(image), image.size, image.size)
}

/** A PNG of a decoded image, at its own size (for a download over the web host). */
export function pngBlob(image: StudioImage): Promise<Blob> {
  const c = document.createElement('canvas')
  c.width = image.size
  c.height = image.size
  c.getContext('2d')!.putImageData(toImageData(image), 0, 0)
  return new Promise((resolve, reject) =>
    c.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('The image could not be encoded.'))),
      'image/png',
    ),
  )
}

/** Saves blobs as downloads, one after the other (browsers drop a burst of them). */
export async function download(files: { name: string; blob: Blob }[]): Promise<void> {
  for (const f of files) {
    const url = URL.createObjectURL(f.blob)
    const a = document.createElement('a')
    a.href = url
    a.download = f.name
    document.body.append(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
    await new Promise((r) => setTimeout(r, 150))
  }
}
