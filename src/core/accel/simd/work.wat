  ;; Convolutions and their filter gradients, shared out between threads: every thread (the
  ;; caller's and Synthfold's workers, pool.ts) runs `work` on the same control block until no
  ;; slot of the job is left. A slot is claimed by compare-and-swap on word 0, and only then are
  ;; the job's kind and parameters read. While JavaScript writes a new job's parameters word 0
  ;; holds slot 0xffff (more than any job has), so no thread can claim anything until the job is
  ;; published complete; a thread that read anything of a finished job claims nothing of the next,
  ;; and which thread did which slot never changes the result. Control block (i32
  ;; words at ctl): 0 job << 16 | next slot, 1 slots done, 2 used by JavaScript, 4 the job's
  ;; slots, 5 its kind (1 filter gradient, 2 convolution, 3 transposed convolution, 4 matrix
  ;; product), then its
  ;; parameters (below). Returns the
  ;; slots this call did.
  (func (export "work") (param $ctl i32) (param $thread i32) (result i32)
    (local $v i32) (local $slot i32) (local $n i32)
    (block $done (loop $next
      (local.set $v (i32.atomic.load (local.get $ctl)))
      (local.set $slot (i32.and (local.get $v) (i32.const 0xffff)))
      (br_if $done (i32.ge_u (local.get $slot) (i32.load offset=16 (local.get $ctl))))
      (br_if $next (i32.ne (i32.atomic.rmw.cmpxchg (local.get $ctl) (local.get $v)
        (i32.add (local.get $v) (i32.const 1))) (local.get $v)))
      ;; claimed from a published job; its slot count again, now that word 0 vouches for it
      (br_if $next (i32.ge_u (local.get $slot) (i32.load offset=16 (local.get $ctl))))
      (if (i32.eq (i32.load offset=20 (local.get $ctl)) (i32.const 1))
        (then (call $filter_grad_slot (local.get $ctl) (local.get $thread) (local.get $slot)))
        (else (if (i32.eq (i32.load offset=20 (local.get $ctl)) (i32.const 2))
          (then (call $conv_slot (local.get $ctl) (local.get $thread) (local.get $slot)))
          (else (if (i32.eq (i32.load offset=20 (local.get $ctl)) (i32.const 3))
            (then (call $tconv_slot (local.get $ctl) (local.get $thread) (local.get $slot)))
            (else (call $gemm_slot (local.get $ctl) (local.get $slot))))))))
      (drop (i32.atomic.rmw.add offset=4 (local.get $ctl) (i32.const 1)))
      (drop (memory.atomic.notify offset=4 (local.get $ctl) (i32.const 1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $n))

  ;; One slot of the filter gradient. A chunk is one band of output rows of one image:
  ;; its patches (im2col, into the thread's scratch) times its rows of dy. The chunks are split
  ;; into `slots` runs of consecutive chunks; a slot sums its chunks in order into its own partial
  ;; dW (the slots are added in order afterwards, so the sum does not depend on the threads).
  ;; Parameters: x, dy, scratch, scratch stride, c, c stride (pointers and strides in bytes), XH,
  ;; XW, Ci, OH, OW, KH, KW, sh, sw, top, left, Co, band (output rows a chunk), bands an image,
  ;; chunks.
  (func $filter_grad_slot (param $ctl i32) (param $thread i32) (param $slot i32)
    (local $chunk i32) (local $end i32) (local $b i32) (local $oh0 i32) (local $rows i32)
    (local $taps i32) (local $scratch i32) (local $c i32) (local $first i32)
    ;; chunks slot * count / slots up to (slot + 1) * count / slots
    (local.set $chunk (i32.div_u (i32.mul (local.get $slot) (i32.load offset=104 (local.get $ctl))) (i32.load offset=16 (local.get $ctl))))
    (local.set $end (i32.div_u (i32.mul (i32.add (local.get $slot) (i32.const 1)) (i32.load offset=104 (local.get $ctl)))
      (i32.load offset=16 (local.get $ctl))))
    (local.set $taps (i32.mul (i32.mul (i32.load offset=68 (local.get $ctl)) (i32.load offset=72 (local.get $ctl))) (i32.load offset=56 (local.get $ctl))))
    (local.set $scratch (i32.add (i32.load offset=32 (local.get $ctl)) (i32.mul (local.get $thread) (i32.load offset=36 (local.get $ctl)))))
    (local.set $c (i32.add (i32.load offset=40 (local.get $ctl)) (i32.mul (local.get $slot) (i32.load offset=44 (local.get $ctl)))))
    (local.set $first (i32.const 1))
    (block $chunks_done (loop $chunks_next
      (br_if $chunks_done (i32.ge_u (local.get $chunk) (local.get $end)))
      (local.set $b (i32.div_u (local.get $chunk) (i32.load offset=100 (local.get $ctl))))
      (local.set $oh0 (i32.mul (i32.rem_u (local.get $chunk) (i32.load offset=100 (local.get $ctl))) (i32.load offset=96 (local.get $ctl))))
      (local.set $rows (i32.sub (i32.load offset=60 (local.get $ctl)) (local.get $oh0)))
      (if (i32.gt_u (local.get $rows) (i32.load offset=96 (local.get $ctl))) (then (local.set $rows (i32.load offset=96 (local.get $ctl)))))
      ;; the band's patches: image b, output rows oh0 .. oh0 + rows (top shifted by oh0 * sh)
      (call $im2col
        (i32.add (i32.load offset=24 (local.get $ctl)) (i32.shl (i32.mul (local.get $b)
          (i32.mul (i32.mul (i32.load offset=48 (local.get $ctl)) (i32.load offset=52 (local.get $ctl))) (i32.load offset=56 (local.get $ctl)))) (i32.const 2)))
        (local.get $scratch) (i32.const 1) (i32.load offset=48 (local.get $ctl)) (i32.load offset=52 (local.get $ctl)) (i32.load offset=56 (local.get $ctl))
        (local.get $rows) (i32.load offset=64 (local.get $ctl)) (i32.load offset=68 (local.get $ctl)) (i32.load offset=72 (local.get $ctl)) (i32.load offset=76 (local.get $ctl)) (i32.load offset=80 (local.get $ctl))
        (i32.sub (i32.load offset=84 (local.get $ctl)) (i32.mul (local.get $oh0) (i32.load offset=76 (local.get $ctl)))) (i32.load offset=88 (local.get $ctl)))
      ;; patches^T dy: the slot's first chunk writes its partial dW, the others add to it
      (call $gemm (local.get $scratch) (i32.const 4) (i32.shl (local.get $taps) (i32.const 2))
        (i32.add (i32.load offset=28 (local.get $ctl)) (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (i32.load offset=60 (local.get $ctl)))
          (local.get $oh0)) (i32.mul (i32.load offset=64 (local.get $ctl)) (i32.load offset=92 (local.get $ctl)))) (i32.const 2)))
        (i32.shl (i32.load offset=92 (local.get $ctl)) (i32.const 2)) (local.get $c) (i32.shl (i32.load offset=92 (local.get $ctl)) (i32.const 2))
        (local.get $taps) (i32.load offset=92 (local.get $ctl)) (i32.mul (local.get $rows) (i32.load offset=64 (local.get $ctl)))
        (i32.eqz (local.get $first)))
      (local.set $first (i32.const 0))
      (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
      (br $chunks_next))))

  ;; One slot of a convolution: one band of output rows of one image (the slot's number is the
  ;; band's), its patches (im2col, into the thread's scratch) times the filter, written to its rows
  ;; of the output. Parameters: x, w (KH x KW x Ci x Co), out, scratch, scratch stride (pointers and
  ;; strides in bytes), XH, XW, Ci, OH, OW, KH, KW, sh, sw, top, left, Co, band, bands an image.
  (func $conv_slot (param $ctl i32) (param $thread i32) (param $slot i32)
    (local $b i32) (local $oh0 i32) (local $rows i32) (local $taps i32) (local $scratch i32)
    (local.set $b (i32.div_u (local.get $slot) (i32.load offset=96 (local.get $ctl))))
    (local.set $oh0 (i32.mul (i32.rem_u (local.get $slot) (i32.load offset=96 (local.get $ctl))) (i32.load offset=92 (local.get $ctl))))
    (local.set $rows (i32.sub (i32.load offset=56 (local.get $ctl)) (local.get $oh0)))
    (if (i32.gt_u (local.get $rows) (i32.load offset=92 (local.get $ctl))) (then (local.set $rows (i32.load offset=92 (local.get $ctl)))))
    (local.set $taps (i32.mul (i32.mul (i32.load offset=64 (local.get $ctl)) (i32.load offset=68 (local.get $ctl))) (i32.load offset=52 (local.get $ctl))))
    (local.set $scratch (i32.add (i32.load offset=36 (local.get $ctl)) (i32.mul (local.get $thread) (i32.load offset=40 (local.get $ctl)))))
    (call $im2col
      (i32.add (i32.load offset=24 (local.get $ctl)) (i32.shl (i32.mul (local.get $b)
        (i32.mul (i32.mul (i32.load offset=44 (local.get $ctl)) (i32.load offset=48 (local.get $ctl))) (i32.load offset=52 (local.get $ctl)))) (i32.const 2)))
      (local.get $scratch) (i32.const 1) (i32.load offset=44 (local.get $ctl)) (i32.load offset=48 (local.get $ctl)) (i32.load offset=52 (local.get $ctl))
      (local.get $rows) (i32.load offset=60 (local.get $ctl)) (i32.load offset=64 (local.get $ctl)) (i32.load offset=68 (local.get $ctl)) (i32.load offset=72 (local.get $ctl)) (i32.load offset=76 (local.get $ctl))
      (i32.sub (i32.load offset=80 (local.get $ctl)) (i32.mul (local.get $oh0) (i32.load offset=72 (local.get $ctl)))) (i32.load offset=84 (local.get $ctl)))
    (call $gemm (local.get $scratch) (i32.shl (local.get $taps) (i32.const 2)) (i32.const 4)
      (i32.load offset=28 (local.get $ctl)) (i32.shl (i32.load offset=88 (local.get $ctl)) (i32.const 2))
      (i32.add (i32.load offset=32 (local.get $ctl)) (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (i32.load offset=56 (local.get $ctl)))
        (local.get $oh0)) (i32.mul (i32.load offset=60 (local.get $ctl)) (i32.load offset=88 (local.get $ctl)))) (i32.const 2)))
      (i32.shl (i32.load offset=88 (local.get $ctl)) (i32.const 2))
      (i32.mul (local.get $rows) (i32.load offset=60 (local.get $ctl))) (i32.load offset=88 (local.get $ctl)) (local.get $taps) (i32.const 0)))

  ;; One slot of a transposed convolution in sub-pixel form (subpixel.ts): one output phase
  ;; (a, b) of one image n. The phase is a stride-1 convolution of dy with its own small flipped
  ;; kernel: its patches (im2col with the phase's padding, into the thread's scratch) times that
  ;; kernel, then interleaved into the output's rows a, a + sh, ... and columns b, b + sw, ...
  ;; Parameters: dy, out, phases (a table of 7 words a phase: a, b, taps high, taps wide, top,
  ;; left, kernel), phase count, scratch, scratch stride, where a thread's product starts in its
  ;; scratch (pointers, strides and offsets in bytes), OH, OW, Co (dy), H, W, Ci (out), vh, vw (a
  ;; phase's outputs), sh, sw. Slot s is image s / phases, phase s mod phases.
  (func $tconv_slot (param $ctl i32) (param $thread i32) (param $slot i32)
    (local $n i32) (local $e i32) (local $taps i32) (local $scratch i32) (local $c i32)
    (local.set $n (i32.div_u (local.get $slot) (i32.load offset=36 (local.get $ctl))))
    (local.set $e (i32.add (i32.load offset=32 (local.get $ctl)) (i32.mul (i32.rem_u (local.get $slot) (i32.load offset=36 (local.get $ctl)))
      (i32.const 28))))
    (local.set $taps (i32.mul (i32.mul (i32.load offset=8 (local.get $e)) (i32.load offset=12 (local.get $e))) (i32.load offset=60 (local.get $ctl))))
    (local.set $scratch (i32.add (i32.load offset=40 (local.get $ctl)) (i32.mul (local.get $thread) (i32.load offset=44 (local.get $ctl)))))
    (local.set $c (i32.add (local.get $scratch) (i32.load offset=48 (local.get $ctl))))
    (call $im2col
      (i32.add (i32.load offset=24 (local.get $ctl)) (i32.shl (i32.mul (local.get $n)
        (i32.mul (i32.mul (i32.load offset=52 (local.get $ctl)) (i32.load offset=56 (local.get $ctl))) (i32.load offset=60 (local.get $ctl)))) (i32.const 2)))
      (local.get $scratch) (i32.const 1) (i32.load offset=52 (local.get $ctl)) (i32.load offset=56 (local.get $ctl)) (i32.load offset=60 (local.get $ctl))
      (i32.load offset=76 (local.get $ctl)) (i32.load offset=80 (local.get $ctl)) (i32.load offset=8 (local.get $e)) (i32.load offset=12 (local.get $e)) (i32.const 1) (i32.const 1) (i32.load offset=16 (local.get $e)) (i32.load offset=20 (local.get $e)))
    (call $gemm (local.get $scratch) (i32.shl (local.get $taps) (i32.const 2)) (i32.const 4)
      (i32.load offset=24 (local.get $e)) (i32.shl (i32.load offset=72 (local.get $ctl)) (i32.const 2)) (local.get $c) (i32.shl (i32.load offset=72 (local.get $ctl)) (i32.const 2))
      (i32.mul (i32.load offset=76 (local.get $ctl)) (i32.load offset=80 (local.get $ctl))) (i32.load offset=72 (local.get $ctl)) (local.get $taps) (i32.const 0))
    ;; out[n, v*sh + a, u*sw + b, :] = c[v, u, :]
    (call $copy_blocks (local.get $c)
      (i32.add (i32.load offset=28 (local.get $ctl)) (i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n)
        (i32.load offset=64 (local.get $ctl))) (i32.load offset=0 (local.get $e))) (i32.load offset=68 (local.get $ctl))) (i32.load offset=4 (local.get $e))) (i32.load offset=72 (local.get $ctl))) (i32.const 2)))
      (i32.load offset=76 (local.get $ctl)) (i32.load offset=80 (local.get $ctl)) (i32.load offset=72 (local.get $ctl)) (i32.mul (i32.load offset=80 (local.get $ctl)) (i32.load offset=72 (local.get $ctl))) (i32.load offset=72 (local.get $ctl))
      (i32.mul (i32.mul (i32.load offset=84 (local.get $ctl)) (i32.load offset=68 (local.get $ctl))) (i32.load offset=72 (local.get $ctl))) (i32.mul (i32.load offset=88 (local.get $ctl)) (i32.load offset=72 (local.get $ctl)))))

  ;; dst[i] += src[i] for i < n (the threads' partial filter gradients into one).
  (func (export "add_into") (param $dst i32) (param $src i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (v128.store (i32.add (local.get $dst) (local.get $i)) (f32x4.add
        (v128.load (i32.add (local.get $dst) (local.get $i)))
        (v128.load (i32.add (local.get $src) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $i)) (f32.add
        (f32.load (i32.add (local.get $dst) (local.get $i)))
        (f32.load (i32.add (local.get $src) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next))))

  ;; One slot of a matrix product split into blocks of c: c = op(a) b (or c += if accumulate),
  ;; as `gemm` takes it, the block rows i0 .. i0 + rowBlock and columns j0 .. j0 + colBlock of
  ;; c. Every element of c is the same sum in the same order whichever block holds it, and the
  ;; blocks depend on the shape only, so the result does not depend on the threads.
  ;; Parameters: a, ars, acs, b, ldb, c, ldc (pointers and strides in bytes), M, N, K,
  ;; accumulate, rowBlock, colBlock, column blocks. Slot s is row block s / column blocks,
  ;; column block s mod column blocks.
  (func $gemm_slot (param $ctl i32) (param $slot i32)
    (local $i0 i32) (local $j0 i32) (local $rows i32) (local $cols i32)
    (local.set $i0 (i32.mul (i32.div_u (local.get $slot) (i32.load offset=76 (local.get $ctl))) (i32.load offset=68 (local.get $ctl))))
    (local.set $j0 (i32.mul (i32.rem_u (local.get $slot) (i32.load offset=76 (local.get $ctl))) (i32.load offset=72 (local.get $ctl))))
    (local.set $rows (i32.sub (i32.load offset=52 (local.get $ctl)) (local.get $i0)))
    (if (i32.gt_u (local.get $rows) (i32.load offset=68 (local.get $ctl))) (then (local.set $rows (i32.load offset=68 (local.get $ctl)))))
    (local.set $cols (i32.sub (i32.load offset=56 (local.get $ctl)) (local.get $j0)))
    (if (i32.gt_u (local.get $cols) (i32.load offset=72 (local.get $ctl))) (then (local.set $cols (i32.load offset=72 (local.get $ctl)))))
    (call $gemm
      (i32.add (i32.load offset=24 (local.get $ctl)) (i32.mul (local.get $i0) (i32.load offset=28 (local.get $ctl))))
      (i32.load offset=28 (local.get $ctl)) (i32.load offset=32 (local.get $ctl))
      (i32.add (i32.load offset=36 (local.get $ctl)) (i32.shl (local.get $j0) (i32.const 2)))
      (i32.load offset=40 (local.get $ctl))
      (i32.add (i32.load offset=44 (local.get $ctl)) (i32.add (i32.mul (local.get $i0) (i32.load offset=48 (local.get $ctl)))
        (i32.shl (local.get $j0) (i32.const 2))))
      (i32.load offset=48 (local.get $ctl))
      (local.get $rows) (local.get $cols) (i32.load offset=60 (local.get $ctl)) (i32.load offset=64 (local.get $ctl))))
