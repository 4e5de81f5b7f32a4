import { describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { crc32, deflateSync } from 'node:zlib'
import { decodeSimplePng } from '../../src/core/datasets/png'
import { decodeBmp } from '../../src/core/datasets/bmp'
import { decodeImage } from '../../src/core/datasets/decode'
import { sniffFormat } from '../../src/core/datasets/formats'
import { bmp24 } from './helpers/messy'

function noise(w: number, h: number, c: number, seed: number): Buffer {
  const b = Buffer.alloc(w * h * c)
  let s = seed
  for (let i = 0; i < b.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    b[i] = (s >> 16) & 0xff
  }
  return b
}

/** A PNG written by hand with the given filter type on each row (PNG spec, section 9). */
function pngWithFilters(raw: Buffer, w: number, h: number, c: number, filters: number[]): Buffer {
  const stride = w * c
  const filtered = Buffer.alloc((stride + 1) * h)
  for (let y = 0; y < h; y++) {
    const f = filters[y % filters.length]
    filtered[y * (stride + 1)] = f
    for (let x = 0; x < stride; x++) {
      const v = raw[y * stride + x]
      const a = x >= c ? raw[y * stride + x - c] : 0
      const b = y > 0 ? raw[(y - 1) * stride + x] : 0
      const d = y > 0 && x >= c ? raw[(y - 1) * stride + x - c] : 0
      const p = a + b - d
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - d)]
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : d][f]
      filtered[y * (stride + 1) + 1 + x] = (v - pred) & 0xff
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4)
    return out
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr[8] = 8
  ihdr[9] = { 1: 0, 2: 4, 3: 2, 4: 6 }[c]!
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(filtered)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

describe('the PNG fast path', () => {
  it.each([1, 2, 3, 4] as const)(
    'undoes each of the five row filters, and a mix of them, for %i channels',
    async (channels) => {
      const [w, h] = [13, 9]
      const raw = noise(w, h, channels, 40 + channels)
      for (const filters of [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]]) {
        const png = pngWithFilters(raw, w, h, channels, filters)
        const mine = decodeSimplePng(png)!
        expect(Buffer.from(mine.data).equals(raw), `filters ${filters}`).toBe(true)
        // and libvips reads the hand-made file the same way (its raw gray+alpha output drops alpha)
        if (channels === 2) continue
        const img = sharp(png)
        const ref = await (channels === 1 ? img.toColourspace('b-w') : img).raw().toBuffer()
        expect(ref.equals(raw), `libvips, filters ${filters}`).toBe(true)
      }
    },
  )

  it('throws for damaged compressed data behind a valid checksum, and decodes the next file', () => {
    const raw = noise(13, 9, 1, 3)
    const good = pngWithFilters(raw, 13, 9, 1, [4, 1])
    const idat = good.indexOf('IDAT', 0, 'latin1')
    const len = good.readUInt32BE(idat - 4)
    const bad = Buffer.from(good)
    for (let i = idat + 8; i < idat + 4 + len; i += 5) bad[i] ^= 0x5a
    bad.writeUInt32BE(crc32(bad.subarray(idat, idat + 4 + len)) >>> 0, idat + 4 + len)
    expect(() => decodeSimplePng(bad)).toThrow()
    // a stream cut short, with its checksum fixed up
    const short = Buffer.concat([
      good.subarray(0, idat + 4 + len - 20),
      good.subarray(idat + 4 + len),
    ])
    short.writeUInt32BE(len - 20, idat - 4)
    short.writeUInt32BE(crc32(short.subarray(idat, idat + 4 + len - 20)) >>> 0, idat + 4 + len - 20)
    expect(() => decodeSimplePng(short)).toThrow()
    expect(Buffer.from(decodeSimplePng(good)!.data).equals(raw)).toBe(true)
  })

  it('refuses a small PNG whose data inflates far past its size (a zip bomb) without inflating it all', () => {
    const good = pngWithFilters(noise(13, 9, 1, 5), 13, 9, 1, [0])
    const idat = good.indexOf('IDAT', 0, 'latin1')
    const len = good.readUInt32BE(idat - 4)
    // 256 MiB of zeros compress to about 256 KiB
    const bomb = deflateSync(Buffer.alloc(256 * 1024 * 1024))
    const body = Buffer.concat([Buffer.from('IDAT', 'latin1'), bomb])
    const chunk = Buffer.alloc(body.length + 8)
    chunk.writeUInt32BE(bomb.length, 0)
    body.copy(chunk, 4)
    chunk.writeUInt32BE(crc32(body) >>> 0, body.length + 4)
    const png = Buffer.concat([good.subarray(0, idat - 4), chunk, good.subarray(idat + 8 + len)])
    const before = process.memoryUsage().arrayBuffers
    expect(() => decodeSimplePng(png)).toThrow()
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
  })

  it.each([1, 2, 3, 4] as const)(
    'decodes %i-channel PNGs exactly as libvips does, for every filter choice',
    async (channels) => {
      for (const adaptive of [true, false]) {
        const raw = noise(29, 17, channels, channels * 7 + (adaptive ? 1 : 0))
        const img = sharp(raw, { raw: { width: 29, height: 17, channels } })
        const png = await (channels <= 2 ? img.toColourspace('b-w') : img)
          .png({ adaptiveFiltering: adaptive, compressionLevel: 6 })
          .toBuffer()
        const mine = decodeSimplePng(png)!
        expect(mine.channels).toBe(channels)
        expect(Buffer.from(mine.data).equals(raw)).toBe(true)
      }
    },
  )

  it('leaves palette transparency, 16-bit and interlaced images to libvips', async () => {
    const raw = noise(8, 8, 3, 1)
    expect(
      decodeSimplePng(
        await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
          .png({ progressive: true })
          .toBuffer(),
      ),
    ).toBeNull()
    expect(
      decodeSimplePng(
        await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
          .toColourspace('rgb16')
          .png()
          .toBuffer(),
      ),
    ).toBeNull()
  })

  it('reports a cut-off PNG as damaged, not as an image', async () => {
    const png = await sharp(noise(28, 28, 1, 3), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer()
    const r = await decodeImage(png.subarray(0, png.length - 30), '.png', {
      size: 28,
      channels: 'gray',
      fit: 'cover',
    })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toMatch(/damaged or truncated PNG/)
  })
})

describe('damaged PNGs', () => {
  it('refuses a PNG whose data was changed on disk (bad checksum), on the fast path too', async () => {
    const png = await sharp(noise(28, 28, 1, 5), { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    const bad = Buffer.from(png)
    const idat = bad.indexOf('IDAT')
    bad[idat + 10] ^= 0xff
    const r = await decodeImage(bad, '.png', { size: 28, channels: 'gray', fit: 'cover' })
    expect(r).toEqual({
      ok: false,
      reason: expect.stringMatching(/^damaged PNG file \(.*checksum/),
    })
  })
})

describe('the BMP decoder', () => {
  it('reads 24-bit bottom-up BMPs with row padding', () => {
    const img = decodeBmp(bmp24(5, 3, [1, 2, 3]))
    expect(img).toMatchObject({ width: 5, height: 3, channels: 3 })
    expect(Array.from(img.data.subarray(0, 6))).toEqual([1, 2, 3, 1, 2, 3])
  })

  it('refuses a truncated BMP with a reason', async () => {
    const r = await decodeImage(bmp24(30, 30, [0, 0, 0]).subarray(0, 300), '.bmp', {
      size: 28,
      channels: 'rgb',
      fit: 'cover',
    })
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/truncated BMP/) })
  })
})

describe('format sniffing', () => {
  it('goes by content, not by name', async () => {
    const jpeg = await sharp(noise(8, 8, 3, 2), { raw: { width: 8, height: 8, channels: 3 } })
      .jpeg()
      .toBuffer()
    expect(sniffFormat(jpeg)).toBe('jpeg')
    const asPng = await decodeImage(jpeg, '.png', { size: 28, channels: 'rgb', fit: 'cover' })
    expect(asPng.ok).toBe(true)
    expect(sniffFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('svg')
    const svg = await decodeImage(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
      '.png',
      { size: 28, channels: 'rgb', fit: 'cover' },
    )
    expect(svg).toEqual({ ok: false, reason: expect.stringMatching(/SVG/) })
  })
})
