import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          web: resolve('src/web/index.ts'),
          cli: resolve('src/cli/index.ts'),
          'import-worker': resolve('src/core/jobs/import-worker.ts'),
          'decode-worker': resolve('src/core/datasets/decode-worker.ts'),
          'ml-worker': resolve('src/core/jobs/ml-worker.ts'),
        },
        // Keep every chunk beside the entries: worker files are found relative to the chunk that starts them.
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    build: {
      rollupOptions: {
        // The app, and the GPU trainer page (src/renderer/gpu-trainer: the core's trainers on WebGPU).
        input: { index: resolve('src/renderer/index.html'), gpu: resolve('src/renderer/gpu.html') },
      },
    },
    plugins: [vue()],
  },
})
