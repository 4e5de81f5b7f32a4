import type { Sharp } from 'sharp'
import { channelCount, type ChannelMode, type FitMode } from '../../shared/types'
import { bmpHeader, decodeBmp } from './bmp'
import { formatForExtension, sniffFormat, type ImageFormat } from './formats'
import { decodeSimplePng, pngHeader, type RawImage } from './png'
import { loadSharp } from './sharp-lazy'

/** Images above this many pixels are refused before decoding (a 20000x20000 PNG is 400 MP). */
export const MAX_PIXELS = 100_000_000
/** Longest side of the stored preview when the source is larger than the training size. */
export const THUMB_SIZE = 96

/** How many leading bytes tell the format (sniffFormat looks at no more). */
export const SNIFF_BYTES = 512
export const SVG_REASON = 'SVG drawings are not supported; export them as PNG'

export const notAnImage = (ext: string): string =>
  `not an image: the content does not match ${ext ? `its ${ext} extension` : 'any image format'}`

export interface Geometry {
  size: number
  channels: ChannelMode
  fit: FitMode
}

export type Decoded =
  | {
      ok: true
      format: ImageFormat
      width: number
      height: number
      pixels: Uint8Array
      thumb: Buffer | null
    }
  | { ok: false; reason: string }

/**
 * Turns the bytes of one file into training pixels (size x size x channels, uint8), applying EXIF
 * orientation and normalising any colour mode to the dataset's. Never throws for bad input: a file
 * that cannot be used comes back with a reason a person can read.
 */
export async function decodeImage(buf: Uint8Array, ext: string, geo: Geometry): Promise<Decoded> {
  if (buf.length === 0) return { ok: false, reason: 'empty file (0 bytes)' }
  const format = sniffFormat(buf.subarray(0, SNIFF_BYTES))
  if (format === 'svg') return { ok: false, reason: SVG_REASON }
  if (format === null) return { ok: false, reason: notAnImage(ext) }
  try {
    if (format === 'bmp') {
      const head = bmpHeader(buf)
      const refused = head && overLimit(head.width, head.height)
      if (refused) return { ok: false, reason: refused }
      const raw = decodeBmp(buf)
      const sharp = await loadSharp()
      const input = sharp(Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength), {
        raw: { width: raw.width, height: raw.height, channels: raw.channels },
      })
      return await runPipeline(input, format, raw.width, raw.height, geo)
    }
    const png = format === 'png' ? pngHeader(buf) : null
    if (png && png.width === geo.size && png.height === geo.size) {
      const raw = decodeSimplePng(buf)
      if (raw)
        return {
          ok: true,
          format,
          width: raw.width,
          height: raw.height,
          pixels: convertRaw(raw, geo.channels),
          thumb: null,
        }
    }
    const sharp = await loadSharp()
    const meta = await sharp(buf, { limitInputPixels: false }).metadata()
    if (!meta.width || !meta.height)
      return { ok: false, reason: 'damaged image: no valid size in its header' }
    const refused = overLimit(meta.width, meta.height)
    if (refused) return { ok: false, reason: refused }
    const input = sharp(buf, {
      limitInputPixels: MAX_PIXELS,
      failOn: 'truncated',
      pages: 1,
    }).rotate()
    const swap = (meta.orientation ?? 1) >= 5
    return await runPipeline(
      input,
      format,
      swap ? meta.height : meta.width,
      swap ? meta.width : meta.height,
      geo,
    )
  } catch (err) {
    return { ok: false, reason: describeDecodeError(err, format) }
  }
}

function overLimit(width: number, height: number): string | null {
  if (width <= 0 || height <= 0) return 'damaged image: zero width or height'
  const pixels = width * height
  if (pixels <= MAX_PIXELS) return null
  return `image is ${width}×${height} (${(pixels / 1e6).toFixed(0)} MP), over the ${MAX_PIXELS / 1e6} MP limit`
}

async function runPipeline(
  input: Sharp,
  format: ImageFormat,
  width: number,
  height: number,
  geo: Geometry,
): Promise<Decoded> {
  const normalised = normalise(input, geo.channels)
  let thumb: Buffer | null = null
  if (Math.min(width, height) > geo.size && geo.size < THUMB_SIZE) {
    thumb = await normalised
      .clone()
      .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 82 })
      .toBuffer()
  }
  const { data, info } = await normalised
    .resize(geo.size, geo.size, {
      fit: geo.fit,
      position: 'centre',
      background: { r: 0, g: 0, b: 0, alpha: geo.channels === 'rgba' ? 0 : 1 },
    })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
  const expected = geo.size * geo.size * channelCount(geo.channels)
  if (data.length !== expected || info.channels !== channelCount(geo.channels)) {
    throw new Error(`unexpected decoder output (${info.width}x${info.height}x${info.channels})`)
  }
  return {
    ok: true,
    format,
    width,
    height,
    pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    thumb,
  }
}

/** Any input mode (gray, gray+alpha, palette, 16-bit, CMYK, RGB(A)) to the dataset's mode. */
function normalise(img: Sharp, mode: ChannelMode): Sharp {
  if (mode === 'rgba') return img.toColourspace('srgb').ensureAlpha()
  const flat = img.flatten({ background: '#ffffff' })
  return mode === 'gray' ? flat.toColourspace('b-w') : flat.toColourspace('srgb').removeAlpha()
}

/** Channel conversion for already decoded pixels at the target size (the PNG fast path). */
export function convertRaw(raw: RawImage, mode: ChannelMode): Uint8Array {
  if (raw.channels === 1 && mode === 'gray') return raw.data
  if (raw.channels === 3 && mode === 'rgb') return raw.data
  const n = raw.width * raw.height
  const outC = channelCount(mode)
  const out = new Uint8Array(n * outC)
  const src = raw.data
  const c = raw.channels
  for (let i = 0; i < n; i++) {
    const s = i * c
    let r: number, g: number, b: number, a: number
    if (c <= 2) {
      r = g = b = src[s]
      a = c === 2 ? src[s + 1] : 255
    } else {
      r = src[s]
      g = src[s + 1]
      b = src[s + 2]
      a = c === 4 ? src[s + 3] : 255
    }
    const o = i * outC
    if (mode === 'rgba') {
      out[o] = r
      out[o + 1] = g
      out[o + 2] = b
      out[o + 3] = a
      continue
    }
    if (a < 255) {
      const k = a / 255
      r = r * k + 255 * (1 - k)
      g = g * k + 255 * (1 - k)
      b = b * k + 255 * (1 - k)
    }
    if (mode === 'gray') {
      out[o] = c <= 2 ? Math.round(r) : Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b)
    } else {
      out[o] = Math.round(r)
      out[o + 1] = Math.round(g)
      out[o + 2] = Math.round(b)
    }
  }
  return out
}

function describeDecodeError(err: unknown, format: ImageFormat): string {
  const msg = err instanceof Error ? err.message : String(err)
  const first = msg
    .split('\n')[0]
    .replace(/^Error: /, '')
    .trim()
  if (/pixel limit/i.test(msg)) return `image is over the ${MAX_PIXELS / 1e6} MP limit`
  if (
    /premature end|truncat|unexpected end|not enough|incomplete|short read|end of (file|stream)|out of data|unable to read/i.test(
      msg,
    )
  )
    return `damaged or truncated ${format.toUpperCase()} file (${first})`
  if (/checksum|crc error|incorrect header check|invalid (stored|distance|code)/i.test(msg)) {
    return `damaged ${format.toUpperCase()} file (${first})`
  }
  if (/unsupported image format|bad seek|not a known file format/i.test(msg))
    return `unsupported or damaged ${format.toUpperCase()} file (${first})`
  if (/compressed \(RLE\)|bit depth/i.test(msg)) return first
  return `damaged or unreadable ${format.toUpperCase()} file (${first})`
}

export { formatForExtension }
