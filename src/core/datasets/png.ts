import { constants, crc32, createInflate, inflateSync } from 'node:zlib'

/**
 * A fast path for the common machine-learning case: small, non-interlaced 8-bit PNGs already at
 * the training size (MNIST, CIFAR, most exported datasets). For those, a libvips pipeline costs far
 * more in per-call overhead than the decode itself. Returns null for anything it does not handle
 * (the caller then uses sharp); throws for a PNG that is damaged.
 */
export interface RawImage {
  width: number
  height: number
  channels: 1 | 2 | 3 | 4
  data: Uint8Array
}

const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 4: 2, 6: 4 }

export function pngHeader(buf: Uint8Array): { width: number; height: number } | null {
  if (buf.length < 24 || !SIG.every((v, i) => buf[i] === v)) return null
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  return { width: dv.getUint32(16), height: dv.getUint32(20) }
}

export function decodeSimplePng(buf: Uint8Array): RawImage | null {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let pos = 8
  let width = 0
  let height = 0
  let colorType = -1
  let palette: Uint8Array | null = null
  const idat: Uint8Array[] = []
  let ended = false
  while (pos + 8 <= buf.length) {
    const len = dv.getUint32(pos)
    const type = String.fromCharCode(buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7])
    const start = pos + 8
    if (start + len + 4 > buf.length) throw new Error('truncated PNG chunk')
    // libpng refuses critical chunks with a bad checksum; so does this path.
    if (crc32(buf.subarray(pos + 4, start + len)) >>> 0 !== dv.getUint32(start + len)) {
      throw new Error(`damaged PNG (checksum error in ${type})`)
    }
    if (type === 'IHDR') {
      width = dv.getUint32(start)
      height = dv.getUint32(start + 4)
      const depth = buf[start + 8]
      colorType = buf[start + 9]
      const interlace = buf[start + 12]
      if (depth !== 8 || interlace !== 0 || !(colorType in CHANNELS || colorType === 3)) return null
    } else if (type === 'PLTE') {
      palette = buf.subarray(start, start + len)
    } else if (
      type === 'tRNS' ||
      type === 'iCCP' ||
      type === 'gAMA' ||
      type === 'cHRM' ||
      type === 'sBIT'
    ) {
      // Colour management or transparency details: leave these to libvips.
      return null
    } else if (type === 'IDAT') {
      idat.push(buf.subarray(start, start + len))
    } else if (type === 'IEND') {
      ended = true
      break
    }
    pos = start + len + 4
  }
  if (!ended) throw new Error('truncated PNG (no end marker)')
  if (width === 0 || height === 0 || idat.length === 0) throw new Error('PNG without image data')
  if (colorType === 3 && !palette) throw new Error('palette PNG without a palette')
  const inChannels = colorType === 3 ? 1 : CHANNELS[colorType]
  const stride = width * inChannels
  const raw = inflateExact(idat.length === 1 ? idat[0] : Buffer.concat(idat), (stride + 1) * height)
  if (raw.length < (stride + 1) * height) throw new Error('truncated PNG image data')
  const out = new Uint8Array(stride * height)
  unfilter(raw, out, width, height, inChannels)
  if (colorType !== 3) return { width, height, channels: inChannels, data: out }
  const rgb = new Uint8Array(width * height * 3)
  const pal = palette as Uint8Array
  for (let i = 0; i < out.length; i++) {
    const p = out[i] * 3
    if (p + 2 >= pal.length) throw new Error('PNG palette index out of range')
    rgb[i * 3] = pal[p]
    rgb[i * 3 + 1] = pal[p + 1]
    rgb[i * 3 + 2] = pal[p + 2]
  }
  return { width, height, channels: 3, data: rgb }
}

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void
  reset(): void
  onerror: (...args: unknown[]) => void
}

/**
 * One inflate context per thread, reused from file to file. zlib.inflateSync builds a stream object
 * and a native context per call (about a third of the time of a small PNG, plus garbage); this
 * drives the context of one stream directly, the way inflateSync does inside. Anything unexpected
 * (Node internals changed, a damaged stream, more data than the header promises) goes to
 * inflateSync, which throws the usual errors.
 */
/** Extra inflated bytes tolerated past what the header needs (libpng ignores a little trailing data). */
const INFLATE_SLACK = 1 << 20

let reusable: { handle: ZlibHandle; state: Uint32Array; failed: boolean } | null | undefined

function inflateExact(input: Uint8Array, expected: number): Uint8Array {
  if (reusable === undefined) {
    const engine = createInflate() as unknown as { _handle?: ZlibHandle; _writeState?: Uint32Array }
    const { _handle: handle, _writeState: state } = engine
    reusable =
      handle && state instanceof Uint32Array && typeof handle.writeSync === 'function'
        ? { handle, state, failed: false }
        : null
    if (reusable) {
      const r = reusable
      handle!.onerror = () => (r.failed = true)
    }
  }
  if (reusable) {
    const r = reusable
    const out = Buffer.allocUnsafe(expected + 1)
    r.failed = false
    try {
      r.handle.writeSync(constants.Z_FINISH, input, 0, input.length, out, 0, out.length)
      const [availOut, availIn] = r.state
      r.handle.reset()
      // Room left in the output and all input used: the stream ended inside what was expected.
      if (!r.failed && availIn === 0 && availOut > 0) return out.subarray(0, out.length - availOut)
    } catch {
      reusable = null
    }
  }
  // Never more than the header promises (plus slack): a small image whose data inflates to
  // gigabytes (a "zip bomb") is refused as damaged instead of filling memory.
  return inflateSync(input, {
    chunkSize: Math.max(64, expected + 64),
    maxOutputLength: expected + INFLATE_SLACK,
  })
}

function unfilter(
  raw: Uint8Array,
  out: Uint8Array,
  width: number,
  height: number,
  bpp: number,
): void {
  // One loop per filter type and row: the filter is per row, and a switch per byte costs more than
  // the arithmetic.
  const stride = width * bpp
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const src = y * (stride + 1) + 1
    const dst = y * stride
    const prev = dst - stride
    const first = y === 0
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), dst)
        break
      case 1:
        for (let x = 0; x < bpp; x++) out[dst + x] = raw[src + x]
        for (let x = bpp; x < stride; x++) out[dst + x] = (raw[src + x] + out[dst + x - bpp]) & 0xff
        break
      case 2:
        if (first) out.set(raw.subarray(src, src + stride), dst)
        else for (let x = 0; x < stride; x++) out[dst + x] = (raw[src + x] + out[prev + x]) & 0xff
        break
      case 3:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[dst + x - bpp] : 0
          const b = first ? 0 : out[prev + x]
          out[dst + x] = (raw[src + x] + ((a + b) >> 1)) & 0xff
        }
        break
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[dst + x - bpp] : 0
          const b = first ? 0 : out[prev + x]
          const c = !first && x >= bpp ? out[prev + x - bpp] : 0
          const p = a + b - c
          const pa = Math.abs(p - a)
          const pb = Math.abs(p - b)
          const pc = Math.abs(p - c)
          out[dst + x] = (raw[src + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff
        }
        break
      default:
        throw new Error(`bad PNG filter type ${filter}`)
    }
  }
}
