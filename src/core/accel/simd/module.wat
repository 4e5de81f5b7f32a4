;; Synthfold's WebAssembly SIMD kernels, run on the memory of tfjs's wasm backend (imported, so
;; every pointer is a tensor's byte offset there). Work that tfjs 4.22 runs as several scalar or
;; single-purpose kernels, each done here in one vectorised pass, and the products that
;; Synthfold's threads share (work.wat).
;; The module is this file with the theme files (elementwise, transpose, col2im, norms, im2col,
;; adam, gemm, cross-entropy, work) put in at the marker below, in that order (the order of the
;; functions in the module, the same as before the text was split): `npm run build:wasm`
;; (scripts/build-wasm.mjs) assembles it into kernels.wasm.ts, and a unit test checks that the committed bytes are these
;; files'.
(module
  ;; The build also writes a variant for tfjs's unshared memory (one thread): this line without
  ;; the maximum and `shared`.
  (import "env" "memory" (memory 1 65536 shared))

  ;; @parts
)
