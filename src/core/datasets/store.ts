import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'

/**
 * A dataset's pixels: one file of fixed-size uint8 records (size x size x channels each), so
 * image i lives at byte i * recordBytes and training can read batches without decoding. Records
 * are only appended during an import, past the dataset's committed end (`next_slot`), inside the
 * transaction that publishes them: a killed import or a rolled-back batch leaves at worst
 * unreferenced bytes past that end, and a record that a committed row points at is never written
 * again.
 */
export class PixelStore {
  private fd: number | null = null

  constructor(
    readonly file: string,
    readonly recordBytes: number,
  ) {}

  static fileFor(dir: string, generation: number, size: number, channels: number): string {
    return join(dir, `pixels-g${generation}-${size}x${size}x${channels}.u8`)
  }

  private open(write: boolean): number {
    if (this.fd === null) {
      if (write) mkdirSync(join(this.file, '..'), { recursive: true })
      this.fd = openSync(this.file, write ? (existsSync(this.file) ? 'r+' : 'w+') : 'r')
    }
    return this.fd
  }

  write(slot: number, data: Uint8Array): void {
    if (data.length !== this.recordBytes)
      throw new Error(`record is ${data.length} bytes, expected ${this.recordBytes}`)
    writeSync(this.open(true), data, 0, data.length, slot * this.recordBytes)
  }

  /** Writes consecutive records starting at `slot` in one system call. */
  writeMany(slot: number, records: Uint8Array[]): void {
    if (records.length === 0) return
    const all = Buffer.allocUnsafe(records.length * this.recordBytes)
    records.forEach((r, i) => {
      if (r.length !== this.recordBytes)
        throw new Error(`record is ${r.length} bytes, expected ${this.recordBytes}`)
      all.set(r, i * this.recordBytes)
    })
    writeSync(this.open(true), all, 0, all.length, slot * this.recordBytes)
  }

  read(slot: number, out = new Uint8Array(this.recordBytes)): Uint8Array {
    const n = readSync(this.open(false), out, 0, this.recordBytes, slot * this.recordBytes)
    if (n !== this.recordBytes) throw new Error(`pixel record ${slot} is missing from ${this.file}`)
    return out
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}

/**
 * Variable-length previews (WebP) appended to one file, addressed by offset and length. Each call
 * appends at the file's current end (not at an end remembered from earlier), so bytes another
 * writer appended meanwhile, or left behind by a batch that was rolled back, are never overwritten.
 */
export class ThumbPack {
  private fd: number | null = null

  constructor(readonly file: string) {}

  static fileFor(dir: string, generation: number): string {
    return join(dir, `thumbs-g${generation}.bin`)
  }

  append(data: Uint8Array): { offset: number; length: number } {
    return this.appendAll([data])[0]
  }

  /** Appends the previews one after another in one system call. */
  appendAll(data: Uint8Array[]): { offset: number; length: number }[] {
    if (data.length === 0) return []
    if (this.fd === null) {
      mkdirSync(join(this.file, '..'), { recursive: true })
      this.fd = openSync(this.file, existsSync(this.file) ? 'r+' : 'w+')
    }
    let end = fstatSync(this.fd).size
    const start = end
    const places = data.map((d) => {
      const place = { offset: end, length: d.length }
      end += d.length
      return place
    })
    const all = Buffer.concat(data)
    writeSync(this.fd, all, 0, all.length, start)
    return places
  }

  read(offset: number, length: number): Buffer {
    const fd = openSync(this.file, 'r')
    try {
      const out = Buffer.alloc(length)
      const n = readSync(fd, out, 0, length, offset)
      if (n !== length) throw new Error('thumbnail is missing')
      return out
    } finally {
      closeSync(fd)
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}

export function removeStoreFiles(dir: string, keep: string[]): void {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    if (!keep.includes(full)) rmSync(full, { force: true })
  }
}
