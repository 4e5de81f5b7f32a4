import type { Geometry } from './decode'
import type { FileOutcome, Known } from './decode-file'

export interface DecodeRequest {
  id: number
  paths: string[]
  known: Known[]
  geo: Geometry
}

/**
 * A decoded batch. The pixel records of the batch travel as one transferred buffer (`pixels`, each
 * record at `offsets[i]` for outcome i, -1 for none) instead of one buffer per image.
 */
export interface DecodeReply {
  id: number
  outcomes: FileOutcome[]
  pixels: ArrayBuffer
  offsets: Int32Array
  thumbs: ArrayBuffer[]
}

const EMPTY = new Uint8Array(0)

/** Moves every record into one buffer (the outcomes keep empty placeholders); see unpackPixels. */
export function packPixels(id: number, outcomes: FileOutcome[]): DecodeReply {
  const offsets = new Int32Array(outcomes.length).fill(-1)
  let total = 0
  for (const o of outcomes) if (o.kind === 'read' && o.decoded.ok) total += o.decoded.pixels.length
  const pixels = new Uint8Array(total)
  const thumbs: ArrayBuffer[] = []
  let at = 0
  outcomes.forEach((o, i) => {
    if (o.kind !== 'read' || !o.decoded.ok) return
    offsets[i] = at
    pixels.set(o.decoded.pixels, at)
    at += o.decoded.pixels.length
    o.decoded.pixels = EMPTY.subarray(0, 0) as Uint8Array
    // sharp's output buffers live outside the JavaScript heap and cannot be transferred: each
    // thumbnail is copied into a buffer of its own, which can.
    const thumb = o.decoded.thumb
    if (thumb && thumb.length > 0) {
      const own = new Uint8Array(thumb.length)
      own.set(thumb)
      o.decoded.thumb = Buffer.from(own.buffer, 0, own.length)
      thumbs.push(own.buffer)
    }
  })
  // Each record's length is its own (at - offset), recorded by the order of the offsets.
  return { id, outcomes, pixels: pixels.buffer, offsets, thumbs }
}

/** Restores each outcome's pixels as a view into the batch's buffer. */
export function unpackPixels(reply: DecodeReply): FileOutcome[] {
  const { outcomes, offsets, pixels } = reply
  const starts = [...offsets].map((o, i) => [o, i]).filter(([o]) => o >= 0)
  starts.forEach(([offset, i], k) => {
    const end = k + 1 < starts.length ? starts[k + 1][0] : pixels.byteLength
    const o = outcomes[i]
    if (o.kind === 'read' && o.decoded.ok)
      o.decoded.pixels = new Uint8Array(pixels, offset, end - offset)
  })
  return outcomes
}
