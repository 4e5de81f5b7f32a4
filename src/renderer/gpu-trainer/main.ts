import * as tf from '@tensorflow/tfjs-core'
import type { GpuPageApi } from '../../shared/gpu'
import { adapterReport } from './adapter'
import { checkFamily } from './check'
import { runOnPage } from './run'

/**
 * The GPU check page (gpu.html): the core's trainers in a browser renderer on tfjs's WebGPU
 * backend. It reports the adapter and exposes the checks to whoever drives the page (the e2e test
 * test/e2e/gpu.spec.ts, bench/gpu/check.sh) as `window.synthfoldGpu`.
 */
const api: GpuPageApi = {
  adapter: adapterReport,
  check: checkFamily,
  run: runOnPage,
  /** The tfjs backends registered in this page, and the one in use. */
  backends: () => ({
    registered: Object.keys(tf.engine().registryFactory),
    current: tf.getBackend(),
  }),
}

declare global {
  interface Window {
    synthfoldGpu?: GpuPageApi
  }
}

window.synthfoldGpu = api

document.body.dataset.ready = 'true'
