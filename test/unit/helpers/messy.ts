import { createDeflate } from 'node:zlib'
import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { crc32 } from 'node:zlib'
import sharp from 'sharp'

export const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), `synthfold-${prefix}-`))

const solid = (w: number, h: number, rgb: [number, number, number], channels: 3 | 4 = 3) =>
  sharp({
    create: {
      width: w,
      height: h,
      channels,
      background: { r: rgb[0], g: rgb[1], b: rgb[2], alpha: 1 },
    },
  })

function write(root: string, rel: string, data: Buffer | string): void {
  const file = join(root, rel)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, data)
}

/** A PNG of the given size whose pixels are all zero, streamed so 20000x20000 costs little memory. */
export async function writeHugePng(file: string, width: number, height: number): Promise<void> {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(td) >>> 0)
    return Buffer.concat([len, td, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8
  ihdr[9] = 0
  const deflate = createDeflate({ level: 1 })
  const parts: Buffer[] = []
  deflate.on('data', (d: Buffer) => parts.push(d))
  const done = new Promise((r) => deflate.on('end', r))
  const row = Buffer.alloc(width + 1)
  for (let y = 0; y < height; y++)
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r))
  deflate.end()
  await done
  const out = createWriteStream(file)
  out.write(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  out.write(chunk('IHDR', ihdr))
  out.write(chunk('IDAT', Buffer.concat(parts)))
  out.write(chunk('IEND', Buffer.alloc(0)))
  await new Promise((r) => out.end(r))
}

/**
 * A labeled tree with every case the importer must handle. Returns what a correct import reports.
 * cat: 13 usable images in every format and colour mode (one nested deeper), dog: 2 usable + 4 broken, bird: 1 + nested.
 */
export async function buildMessyTree(
  root: string,
): Promise<{ imported: Record<string, number>; skipped: Record<string, RegExp> }> {
  // cat: one usable image of each format and colour mode
  write(root, 'cat/red.png', await solid(40, 40, [255, 0, 0]).png().toBuffer())
  write(root, 'cat/photo.jpg', await solid(64, 48, [0, 128, 255]).jpeg().toBuffer())
  write(root, 'cat/web.webp', await solid(32, 32, [10, 200, 10]).webp().toBuffer())
  write(root, 'cat/anim.gif', await solid(30, 30, [200, 200, 0]).gif().toBuffer())
  write(
    root,
    'cat/tiff16.tif',
    await sharp(Buffer.alloc(36 * 36, 128), { raw: { width: 36, height: 36, channels: 1 } })
      .toColourspace('grey16')
      .tiff()
      .toBuffer(),
  )
  write(root, 'cat/rgba.png', await solid(40, 40, [0, 0, 255], 4).png().toBuffer())
  write(
    root,
    'cat/palette.png',
    await solid(40, 40, [255, 0, 255]).png({ palette: true }).toBuffer(),
  )
  write(
    root,
    'cat/graya.png',
    await sharp(Buffer.from(new Uint8Array(40 * 40 * 2).map((_, i) => (i % 2 ? 128 : 90))), {
      raw: { width: 40, height: 40, channels: 2 },
    })
      .png()
      .toBuffer(),
  )
  write(
    root,
    'cat/cmyk.jpg',
    await solid(40, 40, [0, 255, 255]).toColourspace('cmyk').jpeg().toBuffer(),
  )
  write(
    root,
    'cat/rgb16.png',
    await solid(40, 40, [20, 40, 60]).toColourspace('rgb16').png().toBuffer(),
  )
  // Left half white, right half black, stored with EXIF orientation 6 (display rotated 90° clockwise).
  const half = Buffer.alloc(40 * 20 * 3)
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 20; x++) half.fill(255, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3)
  write(
    root,
    'cat/exif6.jpg',
    await sharp(half, { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  )
  write(root, 'cat/bmp24.bmp', bmp24(30, 30, [250, 10, 10]))
  write(root, 'cat/deeper/nested/inner.png', await solid(40, 40, [1, 2, 3]).png().toBuffer())
  // hidden files and folders are skipped silently; non-image files ignored
  write(root, 'cat/.hidden.png', await solid(40, 40, [0, 0, 0]).png().toBuffer())
  write(root, 'cat/.thumbs/x.png', await solid(40, 40, [0, 0, 0]).png().toBuffer())
  write(root, '.git/objects/y.png', await solid(40, 40, [0, 0, 0]).png().toBuffer())
  write(root, 'cat/notes.txt', 'not an image')
  write(root, 'labels.csv', 'a,b\n')
  // symlinks: a loop back to the root and an alias of a file already seen
  symlinkSync(root, join(root, 'cat', 'loop'))
  symlinkSync(join(root, 'cat', 'red.png'), join(root, 'cat', 'alias.png'))
  symlinkSync(join(root, 'missing.png'), join(root, 'cat', 'dangling.png'))

  // dog: two usable, four broken
  write(root, 'dog/a.png', await solid(40, 40, [120, 80, 40]).png().toBuffer())
  write(root, 'dog/b.jpg', await solid(50, 40, [100, 100, 100]).jpeg().toBuffer())
  write(root, 'dog/empty.png', Buffer.alloc(0))
  const jpeg = await sharp({
    create: {
      width: 200,
      height: 200,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg()
    .toBuffer()
  write(root, 'dog/truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)))
  write(root, 'dog/fake.png', 'this is text pretending to be a PNG')
  await writeHugePng(join(root, 'dog', 'huge.png'), 20000, 20000)
  // a sparse 1.5 GiB file with an image name: refused by size, never read into memory
  write(root, 'dog/giant.tif', '')
  truncateSync(join(root, 'dog', 'giant.tif'), 1.5 * 1024 ** 3)
  // a named pipe with an image name would block a reader forever: it is not a regular file
  execFileSync('mkfifo', [join(root, 'dog', 'pipe.png')])

  // bird: one image in a nested folder only
  write(
    root,
    'bird/sub/deep/only.webp',
    await solid(40, 40, [5, 5, 5]).webp({ lossless: true }).toBuffer(),
  )
  // an image at the root belongs to no class
  write(root, 'stray.png', await solid(40, 40, [9, 9, 9]).png().toBuffer())

  return {
    imported: { cat: 13, dog: 2, bird: 1 },
    skipped: {
      'cat/dangling.png': /broken symbolic link/,
      'dog/empty.png': /empty file/,
      'dog/truncated.jpg': /truncated|damaged/,
      'dog/fake.png': /not an image: the content does not match its \.png extension/,
      'dog/huge.png': /20000×20000 \(400 MP\), over the 100 MP limit/,
      'dog/giant.tif': /file is 1\.5 GiB, over the 1 GiB limit/,
      'stray.png': /not inside a class folder/,
    },
  }
}

export function bmp24(w: number, h: number, rgb: [number, number, number]): Buffer {
  const row = Math.ceil((w * 3) / 4) * 4
  const buf = Buffer.alloc(54 + row * h)
  buf.write('BM', 0, 'ascii')
  buf.writeUInt32LE(buf.length, 2)
  buf.writeUInt32LE(54, 10)
  buf.writeUInt32LE(40, 14)
  buf.writeInt32LE(w, 18)
  buf.writeInt32LE(h, 22)
  buf.writeUInt16LE(1, 26)
  buf.writeUInt16LE(24, 28)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = 54 + y * row + x * 3
      buf[o] = rgb[2]
      buf[o + 1] = rgb[1]
      buf[o + 2] = rgb[0]
    }
  return buf
}
