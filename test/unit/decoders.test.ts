import { describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { decodeSimplePng } from '../../src/main/core/datasets/png'
import { decodeBmp } from '../../src/main/core/datasets/bmp'
import { decodeImage } from '../../src/main/core/datasets/decode'
import { sniffFormat } from '../../src/main/core/datasets/formats'
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

describe('the PNG fast path', () => {
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
