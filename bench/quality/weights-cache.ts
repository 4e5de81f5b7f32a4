// A trained model's weights kept in $TMPDIR under a name, so a seeded bench judge trains once.
import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The model `fresh()` builds with the weights cached as `name`, or `train()`'s model, whose
 * weights are then cached (written to a temporary file and renamed, so a killed run leaves none).
 */
export async function cachedWeights<M extends tfl.LayersModel>(
  name: string,
  fresh: () => M,
  train: () => Promise<M>,
): Promise<M> {
  const cache = join(tmpdir(), `${name}.bin`)
  if (existsSync(cache)) {
    const model = fresh()
    const all = new Float32Array(new Uint8Array(readFileSync(cache)).buffer)
    let o = 0
    model.setWeights(
      model.getWeights().map((w) => {
        const t = tf.tensor(all.subarray(o, o + w.size), w.shape)
        o += w.size
        return t
      }),
    )
    return model
  }
  const model = await train()
  const parts = model.getWeights().map((w) => w.dataSync() as Float32Array)
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0))
  let o = 0
  for (const p of parts) {
    all.set(p, o)
    o += p.length
  }
  const part = `${cache}.${process.pid}.tmp`
  writeFileSync(part, Buffer.from(all.buffer))
  renameSync(part, cache)
  return model
}
