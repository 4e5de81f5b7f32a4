import * as tf from '@tensorflow/tfjs-core'
// tfjs-core's browser build registers no gradients by itself (the union package does this).
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-webgl'
import '@tensorflow/tfjs-backend-webgpu'
import type { BrowserBackendName } from '../../shared/gpu'
import { registerChunkedAddN } from './kernels'

/**
 * Switches tfjs to `name` in this page. Tensors made on another backend move when next used, but
 * the trainers here build their models after the switch, so nothing crosses.
 */
export async function useBackend(name: BrowserBackendName): Promise<void> {
  if (name === 'wasm') throw new Error('the wasm backend is not served to this page')
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend failed to initialise`)
  await tf.ready()
  if (name === 'webgpu') registerChunkedAddN()
}
