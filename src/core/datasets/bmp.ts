import type { RawImage } from './png'

/**
 * BMP decoder (libvips as shipped with sharp has no BMP loader). Handles the variants people
 * actually have: 1/4/8-bit palette, 16/24/32-bit, BI_RGB and BI_BITFIELDS, bottom-up and top-down.
 * RLE-compressed BMPs are rare and refused with a clear message.
 */
export function bmpHeader(buf: Uint8Array): { width: number; height: number } | null {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) return null
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const headerSize = dv.getUint32(14, true)
  if (headerSize === 12) return { width: dv.getUint16(18, true), height: dv.getUint16(20, true) }
  return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) }
}

export function decodeBmp(buf: Uint8Array): RawImage {
  if (buf.length < 54) throw new Error('truncated BMP header')
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const dataOffset = dv.getUint32(10, true)
  const headerSize = dv.getUint32(14, true)
  const core = headerSize === 12
  const width = core ? dv.getUint16(18, true) : dv.getInt32(18, true)
  const rawHeight = core ? dv.getUint16(20, true) : dv.getInt32(22, true)
  const bpp = core ? dv.getUint16(24, true) : dv.getUint16(28, true)
  const compression = core ? 0 : dv.getUint32(30, true)
  const topDown = rawHeight < 0
  const height = Math.abs(rawHeight)
  if (width <= 0 || height === 0) throw new Error('BMP with zero width or height')
  if (compression !== 0 && compression !== 3 && compression !== 6)
    throw new Error('compressed (RLE) BMP files are not supported')
  let masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0]
  if (compression === 3 || compression === 6) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize
    masks = [
      dv.getUint32(at, true),
      dv.getUint32(at + 4, true),
      dv.getUint32(at + 8, true),
      headerSize >= 56 || compression === 6 ? dv.getUint32(at + 12, true) : 0,
    ]
  } else if (bpp === 16) {
    masks = [0x7c00, 0x03e0, 0x001f, 0]
  } else if (bpp === 32) {
    masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0]
  }
  let palette: Uint8Array | null = null
  if (bpp <= 8) {
    const colors = (core ? 0 : dv.getUint32(46, true)) || 1 << bpp
    const entry = core ? 3 : 4
    const start = 14 + headerSize
    palette = new Uint8Array(colors * 3)
    for (let i = 0; i < colors; i++) {
      const p = start + i * entry
      if (p + 2 >= buf.length) throw new Error('truncated BMP palette')
      palette[i * 3] = buf[p + 2]
      palette[i * 3 + 1] = buf[p + 1]
      palette[i * 3 + 2] = buf[p]
    }
  } else if (bpp !== 16 && bpp !== 24 && bpp !== 32) {
    throw new Error(`unsupported BMP bit depth ${bpp}`)
  }
  const rowBytes = Math.floor((bpp * width + 31) / 32) * 4
  if (dataOffset + rowBytes * height > buf.length) throw new Error('truncated BMP pixel data')
  const hasAlpha = masks[3] !== 0
  const channels = hasAlpha ? 4 : 3
  const out = new Uint8Array(width * height * channels)
  const shifts = masks.map(maskShift)
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowBytes
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels
      if (palette) {
        const bit = x * bpp
        const byte = buf[row + (bit >> 3)]
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1)
        const p = Math.min(idx, palette.length / 3 - 1) * 3
        out[o] = palette[p]
        out[o + 1] = palette[p + 1]
        out[o + 2] = palette[p + 2]
      } else if (bpp === 24) {
        const p = row + x * 3
        out[o] = buf[p + 2]
        out[o + 1] = buf[p + 1]
        out[o + 2] = buf[p]
      } else {
        const v = bpp === 16 ? dv.getUint16(row + x * 2, true) : dv.getUint32(row + x * 4, true)
        for (let c = 0; c < channels; c++) out[o + c] = extract(v, masks[c], shifts[c])
      }
    }
  }
  return { width, height, channels, data: out }
}

function maskShift(mask: number): { shift: number; bits: number } {
  if (mask === 0) return { shift: 0, bits: 0 }
  let shift = 0
  while (((mask >>> shift) & 1) === 0) shift++
  let bits = 0
  while (((mask >>> (shift + bits)) & 1) === 1) bits++
  return { shift, bits }
}

function extract(v: number, mask: number, s: { shift: number; bits: number }): number {
  if (s.bits === 0) return 255
  const raw = (v & mask) >>> s.shift
  return s.bits >= 8 ? raw >>> (s.bits - 8) : Math.round((raw * 255) / ((1 << s.bits) - 1))
}
