;; Synthfold's WebAssembly SIMD kernels, run on the memory of tfjs's wasm backend (imported, so
;; every pointer is a tensor's byte offset there). Elementwise work that tfjs 4.22 runs as several
;; scalar or single-purpose kernels, each done here in one vectorised pass.
;; Assembled by `npm run build:wasm` (scripts/build-wasm.mjs) into kernels.wasm.ts; a unit test
;; checks that the committed bytes are this file's.
(module
  ;; The build also writes a variant for tfjs's unshared memory (one thread): this line without
  ;; the maximum and `shared`.
  (import "env" "memory" (memory 1 65536 shared))

  ;; y = x * (x > 0 ? 1 : alpha). NaN stays NaN, -0 stays -0, infinities keep their sign.
  (func (export "leaky_relu") (param $x i32) (param $y i32) (param $n i32) (param $alpha f32)
    (local $i i32) (local $end i32) (local $v v128) (local $va v128) (local $one v128) (local $s f32)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (f32x4.mul (local.get $v)
            (v128.bitselect (local.get $one) (local.get $va)
              (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $i))))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (f32.mul (local.get $s)
            (select (f32.const 1) (local.get $alpha) (f32.gt (local.get $s) (f32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; d = dy * (x > 0 ? 1 : alpha): LeakyRelu's gradient in one pass.
  (func (export "leaky_relu_grad")
    (param $dy i32) (param $x i32) (param $d i32) (param $n i32) (param $alpha f32)
    (local $i i32) (local $end i32) (local $va v128) (local $one v128)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $d) (local.get $i))
          (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $i)))
            (v128.bitselect (local.get $one) (local.get $va)
              (f32x4.gt (v128.load (i32.add (local.get $x) (local.get $i)))
                (v128.const f32x4 0 0 0 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $d) (local.get $i))
          (f32.mul (f32.load (i32.add (local.get $dy) (local.get $i)))
            (select (f32.const 1) (local.get $alpha)
              (f32.gt (f32.load (i32.add (local.get $x) (local.get $i))) (f32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; out[j] = sum over r < rows of x[r * inner + j], accumulated in double precision: the sum over
  ;; leading axes (a bias gradient). Eight columns at a time, all rows each, then the rest one by one.
  (func (export "sum_rows") (param $x i32) (param $out i32) (param $rows i32) (param $inner i32)
    (local $j i32) (local $r i32) (local $p i32) (local $stride i32) (local $blocks i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f64)
    (local.set $stride (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $blocks (i32.and (local.get $inner) (i32.const -8)))
    (block $cols_done
      (loop $cols
        (br_if $cols_done (i32.ge_u (local.get $j) (local.get $blocks)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0))
        (local.set $a3 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $a0 (f64x2.add (local.get $a0)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p)))))
            (local.set $a1 (f64x2.add (local.get $a1)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p)))))
            (local.set $a2 (f64x2.add (local.get $a2)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p)))))
            (local.set $a3 (f64x2.add (local.get $a3)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store64_lane offset=0 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a0)))
        (v128.store64_lane offset=8 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a1)))
        (v128.store64_lane offset=16 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a2)))
        (v128.store64_lane offset=24 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a3)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $cols)))
    (block $cols_done
      (loop $cols
        (br_if $cols_done (i32.ge_u (local.get $j) (local.get $inner)))
        (local.set $s (f64.const 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64 (local.get $s)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols))))

  ;; `count` strided matrix transposes, the i-th from src + i * srcStep to dst + i * dstStep (all
  ;; in elements): out[c * dstStride + r] = in[r * srcStride + c] for r < rows, c < cols.
  (func (export "transpose")
    (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (param $srcStride i32) (param $dstStride i32) (param $count i32) (param $srcStep i32)
    (param $dstStep i32)
    (local $i i32)
    (local.set $srcStep (i32.shl (local.get $srcStep) (i32.const 2)))
    (local.set $dstStep (i32.shl (local.get $dstStep) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $transpose1 (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
        (local.get $srcStride) (local.get $dstStride))
      (local.set $src (i32.add (local.get $src) (local.get $srcStep)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))

  ;; One of them, 4 x 4 blocks at a time (transposed in registers by shuffles).
  (func $transpose1
    (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (param $srcStride i32) (param $dstStride i32)
    (local $r i32) (local $c i32) (local $rr i32) (local $ss i32) (local $ds i32)
    (local $rows4 i32) (local $cols4 i32) (local $p i32) (local $q i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $ss (i32.shl (local.get $srcStride) (i32.const 2)))
    (local.set $ds (i32.shl (local.get $dstStride) (i32.const 2)))
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (block $rows_done
      (loop $rows_next
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows4)))
        (local.set $c (i32.const 0))
        (block $cols_done
          (loop $cols_next
            (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cols4)))
            (local.set $p (i32.add (local.get $src) (i32.shl
              (i32.add (i32.mul (local.get $r) (local.get $srcStride)) (local.get $c)) (i32.const 2))))
            (local.set $v0 (v128.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (local.get $ss)))
            (local.set $v1 (v128.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (local.get $ss)))
            (local.set $v2 (v128.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (local.get $ss)))
            (local.set $v3 (v128.load (local.get $p)))
            ;; [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3]
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
              (local.get $v0) (local.get $v1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $v0) (local.get $v1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
              (local.get $v2) (local.get $v3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $v2) (local.get $v3)))
            (local.set $q (i32.add (local.get $dst) (i32.shl
              (i32.add (i32.mul (local.get $c) (local.get $dstStride)) (local.get $r)) (i32.const 2))))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $t0) (local.get $t2)))
            (local.set $q (i32.add (local.get $q) (local.get $ds)))
            (v128.store (local.get $q) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
              (local.get $t0) (local.get $t2)))
            (local.set $q (i32.add (local.get $q) (local.get $ds)))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $t1) (local.get $t3)))
            (local.set $q (i32.add (local.get $q) (local.get $ds)))
            (v128.store (local.get $q) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
              (local.get $t1) (local.get $t3)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cols_next)))
        ;; the last cols % 4 columns of these four rows
        (block $tail_done
          (loop $tail_next
            (br_if $tail_done (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $rr (local.get $r))
            (block $four_done
              (loop $four_next
                (br_if $four_done (i32.ge_u (local.get $rr) (i32.add (local.get $r) (i32.const 4))))
                (call $copy (local.get $src) (local.get $dst) (local.get $rr) (local.get $c)
                  (local.get $srcStride) (local.get $dstStride))
                (local.set $rr (i32.add (local.get $rr) (i32.const 1)))
                (br $four_next)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail_next)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rows_next)))
    ;; the last rows % 4 rows
    (block $rows_done
      (loop $rows_next
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $cols_done
          (loop $cols_next
            (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cols)))
            (call $copy (local.get $src) (local.get $dst) (local.get $r) (local.get $c)
              (local.get $srcStride) (local.get $dstStride))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cols_next)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_next))))

  ;; One element of the transpose above.
  (func $copy (param $src i32) (param $dst i32) (param $r i32) (param $c i32)
    (param $srcStride i32) (param $dstStride i32)
    (f32.store
      (i32.add (local.get $dst) (i32.shl
        (i32.add (i32.mul (local.get $c) (local.get $dstStride)) (local.get $r)) (i32.const 2)))
      (f32.load
        (i32.add (local.get $src) (i32.shl
          (i32.add (i32.mul (local.get $r) (local.get $srcStride)) (local.get $c)) (i32.const 2))))))

  ;; col2im, the scatter-add of a transposed convolution: for every dy pixel p = (b, oh, ow) and
  ;; tap (kh, kw, ci) inside dx, dx[b, oh*sh + kh - top, ow*sw + kw - left, ci] += y[p, kh, kw, ci].
  ;; dx must be zeroed first. Sizes: dims = B, OH, OW, H, W; kernel = KH, KW, Ci.
  (func (export "col2im")
    (param $y i32) (param $dx i32) (param $B i32) (param $OH i32) (param $OW i32)
    (param $H i32) (param $W i32) (param $KH i32) (param $KW i32) (param $Ci i32)
    (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32) (local $ci i32)
    (local $ih i32) (local $iw i32) (local $p i32) (local $row i32) (local $d i32) (local $s i32)
    (local $taps i32)
    (local.set $taps (i32.mul (i32.mul (local.get $KH) (local.get $KW)) (local.get $Ci)))
    (local.set $p (local.get $y))
    (local.set $b (i32.const 0))
    (block $b_done (loop $b_next
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $oh (i32.const 0))
      (block $oh_done (loop $oh_next
        (br_if $oh_done (i32.ge_u (local.get $oh) (local.get $OH)))
        (local.set $ow (i32.const 0))
        (block $ow_done (loop $ow_next
          (br_if $ow_done (i32.ge_u (local.get $ow) (local.get $OW)))
          (local.set $kh (i32.const 0))
          (block $kh_done (loop $kh_next
            (br_if $kh_done (i32.ge_u (local.get $kh) (local.get $KH)))
            (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sh)) (local.get $kh))
              (local.get $top)))
            ;; unsigned compare: a negative row is a huge number, out of range too
            (if (i32.lt_u (local.get $ih) (local.get $H)) (then
              (local.set $row (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $ih))
                (local.get $W)))
              (local.set $kw (i32.const 0))
              (block $kw_done (loop $kw_next
                (br_if $kw_done (i32.ge_u (local.get $kw) (local.get $KW)))
                (local.set $iw (i32.sub (i32.add (i32.mul (local.get $ow) (local.get $sw)) (local.get $kw))
                  (local.get $left)))
                (if (i32.lt_u (local.get $iw) (local.get $W)) (then
                  (local.set $d (i32.add (local.get $dx) (i32.shl
                    (i32.mul (i32.add (local.get $row) (local.get $iw)) (local.get $Ci)) (i32.const 2))))
                  (local.set $s (i32.add (local.get $p) (i32.shl
                    (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw))
                      (local.get $Ci)) (i32.const 2))))
                  (local.set $ci (i32.const 0))
                  (block $ci_done (loop $ci_next
                    (br_if $ci_done (i32.ge_u (local.get $ci) (local.get $Ci)))
                    (f32.store (local.get $d)
                      (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (local.set $s (i32.add (local.get $s) (i32.const 4)))
                    (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
                    (br $ci_next)))))
                (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                (br $kw_next)))))
            (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
            (br $kh_next)))
          (local.set $p (i32.add (local.get $p) (i32.shl (local.get $taps) (i32.const 2))))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $ow_next)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $oh_next)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_next))))

  ;; Sum of squares of n floats, accumulated in double precision (a gradient's squared L2 norm).
  (func (export "sum_squares") (param $x i32) (param $n i32) (result f64)
    (local $i i32) (local $end i32) (local $a0 v128) (local $a1 v128) (local $v v128) (local $s f64)
    (local $f f64)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero offset=0
          (i32.add (local.get $x) (local.get $i)))))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (local.get $v))))
        (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero offset=8
          (i32.add (local.get $x) (local.get $i)))))
        (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $a0 (f64x2.add (local.get $a0) (local.get $a1)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $f (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $f) (local.get $f))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $s))

  ;; Copies rows x cols blocks of n floats: block (r, c) from src + r*srcRow + c*srcCol to
  ;; dst + r*dstRow + c*dstCol (strides in floats). The interleave of sub-pixel phases into dx.
  (func $copy_blocks (export "copy_blocks")
    (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $n i32)
    (param $srcRow i32) (param $srcCol i32) (param $dstRow i32) (param $dstCol i32)
    (local $r i32) (local $c i32) (local $s i32) (local $d i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $srcRow (i32.shl (local.get $srcRow) (i32.const 2)))
    (local.set $srcCol (i32.shl (local.get $srcCol) (i32.const 2)))
    (local.set $dstRow (i32.shl (local.get $dstRow) (i32.const 2)))
    (local.set $dstCol (i32.shl (local.get $dstCol) (i32.const 2)))
    (block $rows_done (loop $rows_next
      (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $srcRow))))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $dstRow))))
      (local.set $c (i32.const 0))
      (block $cols_done (loop $cols_next
        (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cols)))
        (memory.copy (local.get $d) (local.get $s) (local.get $bytes))
        (local.set $s (i32.add (local.get $s) (local.get $srcCol)))
        (local.set $d (i32.add (local.get $d) (local.get $dstCol)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cols_next)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows_next))))

  ;; im2col for filter gradients, one row of taps per output pixel: the patch matrix
  ;; p[(b, oh, ow), (kh, kw, ci)] = x[b, oh*sh + kh - top, ow*sw + kw - left, ci], zero outside x.
  ;; Sizes: x is B x XH x XW x Ci.
  (func $im2col (export "im2col")
    (param $x i32) (param $p i32) (param $B i32) (param $XH i32) (param $XW i32) (param $Ci i32)
    (param $OH i32) (param $OW i32) (param $KH i32) (param $KW i32) (param $sh i32) (param $sw i32)
    (param $top i32) (param $left i32)
    (local $kh i32) (local $kw i32) (local $ci i32) (local $b i32) (local $oh i32) (local $ow i32)
    (local $ih i32) (local $iw i32) (local $src i32) (local $inside i32) (local $row i32)
    (local $end i32)
    ;; bytes of one tap row (kw, ci): contiguous in x where the row lies inside it
    (local.set $row (i32.shl (i32.mul (local.get $KW) (local.get $Ci)) (i32.const 2)))
    (block $b_done (loop $b_next
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $oh (i32.const 0))
      (block $oh_done (loop $oh_next
        (br_if $oh_done (i32.ge_u (local.get $oh) (local.get $OH)))
        (local.set $ow (i32.const 0))
        (block $ow_done (loop $ow_next
          (br_if $ow_done (i32.ge_u (local.get $ow) (local.get $OW)))
          (local.set $kh (i32.const 0))
          (block $kh_done (loop $kh_next
            (br_if $kh_done (i32.ge_u (local.get $kh) (local.get $KH)))
            (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sh))
              (local.get $kh)) (local.get $top)))
            (local.set $iw (i32.sub (i32.mul (local.get $ow) (local.get $sw)) (local.get $left)))
            (local.set $kw (i32.const 0))
            (if (i32.and (i32.lt_u (local.get $ih) (local.get $XH))
                  (i32.and (i32.ge_s (local.get $iw) (i32.const 0))
                    (i32.le_s (i32.add (local.get $iw) (local.get $KW)) (local.get $XW))))
              (then
                ;; the whole tap row inside x: one contiguous copy, 4 floats at a time
                (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $XH)) (local.get $ih))
                    (local.get $XW)) (local.get $iw)) (local.get $Ci)) (i32.const 2))))
                (local.set $end (i32.add (local.get $p) (local.get $row)))
                (block $vec_done (loop $vec_next
                  (br_if $vec_done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
                  (v128.store (local.get $p) (v128.load (local.get $src)))
                  (local.set $p (i32.add (local.get $p) (i32.const 16)))
                  (local.set $src (i32.add (local.get $src) (i32.const 16)))
                  (br $vec_next)))
                (block $tail_done (loop $tail_next
                  (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
                  (f32.store (local.get $p) (f32.load (local.get $src)))
                  (local.set $p (i32.add (local.get $p) (i32.const 4)))
                  (local.set $src (i32.add (local.get $src) (i32.const 4)))
                  (br $tail_next)))
                ;; skip the per-tap loop below
                (local.set $kw (local.get $KW))))
            (block $kw_done (loop $kw_next
              (br_if $kw_done (i32.ge_u (local.get $kw) (local.get $KW)))
              (local.set $iw (i32.sub (i32.add (i32.mul (local.get $ow) (local.get $sw))
                (local.get $kw)) (local.get $left)))
              ;; unsigned compares: negative coordinates are out of range too
              (local.set $inside (i32.and (i32.lt_u (local.get $ih) (local.get $XH))
                (i32.lt_u (local.get $iw) (local.get $XW))))
              (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul
                (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $XH)) (local.get $ih))
                  (local.get $XW)) (local.get $iw)) (local.get $Ci)) (i32.const 2))))
              (local.set $ci (i32.const 0))
              (block $ci_done (loop $ci_next
                (br_if $ci_done (i32.ge_u (local.get $ci) (local.get $Ci)))
                (f32.store (local.get $p)
                  (if (result f32) (local.get $inside)
                    (then (f32.load (local.get $src)))
                    (else (f32.const 0))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (local.set $src (i32.add (local.get $src) (i32.const 4)))
                (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
                (br $ci_next)))
              (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
              (br $kw_next)))
            (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
            (br $kh_next)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $ow_next)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $oh_next)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_next))))

  ;; One Adam step for one variable, the operations and their order exactly as tfjs's
  ;; AdamOptimizer runs them (so results match it bit for bit), with the gradient first scaled by
  ;; `scale` (clipping by global norm; 1 without):
  ;;   g' = g * scale; m' = m * b1 + g' * (1 - b1); v' = v * b2 + g'^2 * (1 - b2)
  ;;   w' = (m' / c1) / (sqrt(v' / c2) + eps) * (-lr) + w,  c1 = 1 - b1^t, c2 = 1 - b2^t
  (func (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32)
    (param $wo i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $scale f32) (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $c1 f32) (param $c2 f32) (param $eps f32) (param $neglr f32)
    (local $i i32) (local $end i32)
    (local $gs v128) (local $mn v128) (local $vn v128)
    (local $vscale v128) (local $vb1 v128) (local $vomb1 v128) (local $vb2 v128) (local $vomb2 v128)
    (local $vc1 v128) (local $vc2 v128) (local $veps v128) (local $vneglr v128)
    (local $sg f32) (local $sm f32) (local $sv f32)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vomb1 (f32x4.splat (local.get $omb1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vomb2 (f32x4.splat (local.get $omb2)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vneglr (f32x4.splat (local.get $neglr)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i)))
          (local.get $vscale)))
        (local.set $mn (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $vb1))
          (f32x4.mul (local.get $gs) (local.get $vomb1))))
        (local.set $vn (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $vb2))
          (f32x4.mul (f32x4.mul (local.get $gs) (local.get $gs)) (local.get $vomb2))))
        (v128.store (i32.add (local.get $mo) (local.get $i)) (local.get $mn))
        (v128.store (i32.add (local.get $vo) (local.get $i)) (local.get $vn))
        (v128.store (i32.add (local.get $wo) (local.get $i))
          (f32x4.add
            (f32x4.mul
              (f32x4.div (f32x4.div (local.get $mn) (local.get $vc1))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vn) (local.get $vc2)))
                  (local.get $veps)))
              (local.get $vneglr))
            (v128.load (i32.add (local.get $w) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $sg (f32.mul (f32.load (i32.add (local.get $g) (local.get $i)))
          (local.get $scale)))
        (local.set $sm (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
          (f32.mul (local.get $sg) (local.get $omb1))))
        (local.set $sv (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
          (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $omb2))))
        (f32.store (i32.add (local.get $mo) (local.get $i)) (local.get $sm))
        (f32.store (i32.add (local.get $vo) (local.get $i)) (local.get $sv))
        (f32.store (i32.add (local.get $wo) (local.get $i))
          (f32.add
            (f32.mul
              (f32.div (f32.div (local.get $sm) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $sv) (local.get $c2))) (local.get $eps)))
              (local.get $neglr))
            (f32.load (i32.add (local.get $w) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; c = op(a) b, or c += op(a) b if accumulate is 1: M x N from M x K and K x N, f32. Element
  ;; (i, k) of a is at a + i * ars + k * acs, (k, j) of b at b + k * ldb + 4j, (i, j) of c at
  ;; c + i * ldc + 4j (strides in bytes): a row-major a is ars = 4K, acs = 4; a transposed one
  ;; (stored K x M) ars = 4, acs = 4M. K is walked in chunks of 128 so that the chunk of b a tile
  ;; reads stays in L1 across the tiles of a column; 16 columns at a time, two rows of c per tile,
  ;; then columns past the last multiple of 16 four and then one at a time.
  (func $gemm (export "gemm")
    (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $ldb i32)
    (param $c i32) (param $ldc i32) (param $M i32) (param $N i32) (param $K i32)
    (param $accumulate i32)
    (local $k0 i32) (local $kn i32) (local $i i32) (local $j i32) (local $k i32)
    (local $pa i32) (local $pb i32) (local $pc i32) (local $panel i32)
    (local $acc v128) (local $s f32) (local $N16 i32) (local $N4 i32) (local $load i32)
    (local.set $N16 (i32.and (local.get $N) (i32.const -16)))
    (local.set $N4 (i32.and (local.get $N) (i32.const -4)))
    ;; an empty sum (K = 0) is zero
    (if (i32.and (i32.eqz (local.get $K)) (i32.eqz (local.get $accumulate)))
      (then
        (block $z_done (loop $z_next
          (br_if $z_done (i32.ge_u (local.get $i) (local.get $M)))
          (memory.fill (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc)))
            (i32.const 0) (i32.shl (local.get $N) (i32.const 2)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $z_next)))))
    (block $chunks_done (loop $chunks_next
      (br_if $chunks_done (i32.ge_u (local.get $k0) (local.get $K)))
      (local.set $kn (i32.sub (local.get $K) (local.get $k0)))
      (if (i32.gt_u (local.get $kn) (i32.const 128)) (then (local.set $kn (i32.const 128))))
      ;; c is read only where it holds something to add to: not in the first chunk of a product
      (local.set $load (i32.or (local.get $accumulate) (i32.ne (local.get $k0) (i32.const 0))))
      (local.set $j (i32.const 0))
      (block $j_done (loop $j_next
        (br_if $j_done (i32.ge_u (local.get $j) (local.get $N16)))
        ;; the panel of b the tiles of these 16 columns read
        (local.set $panel (i32.add (local.get $b) (i32.add (i32.mul (local.get $k0) (local.get $ldb))
          (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $i (i32.const 0))
        (block $i_done (loop $i_next
          (br_if $i_done (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $M)))
          (call $tile2x16 (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $ars))
            (i32.mul (local.get $k0) (local.get $acs)))) (local.get $ars) (local.get $panel)
            (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc))
              (i32.shl (local.get $j) (i32.const 2))))
            (local.get $acs) (local.get $ldb) (local.get $ldc) (local.get $kn) (local.get $load))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $i_next)))
        (if (i32.lt_u (local.get $i) (local.get $M))
          (then
            (call $tile1x16 (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $ars))
              (i32.mul (local.get $k0) (local.get $acs)))) (local.get $panel)
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc))
                (i32.shl (local.get $j) (i32.const 2))))
              (local.get $acs) (local.get $ldb) (local.get $kn) (local.get $load))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $j_next)))
      ;; then 4 columns, one row, at a time
      (block $j_done (loop $j_next
        (br_if $j_done (i32.ge_u (local.get $j) (local.get $N4)))
        (local.set $i (i32.const 0))
        (block $i_done (loop $i_next
          (br_if $i_done (i32.ge_u (local.get $i) (local.get $M)))
          (local.set $pa (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $ars)) (i32.mul (local.get $k0) (local.get $acs)))))
          (local.set $pb (i32.add (local.get $b) (i32.add (i32.mul (local.get $k0) (local.get $ldb)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (if (local.get $load) (then (local.set $acc (v128.load (local.get $pc)))))
          (local.set $k (i32.const 0))
          (block $k_done (loop $k_next
            (br_if $k_done (i32.ge_u (local.get $k) (local.get $kn)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
              (v128.load32_splat (local.get $pa)) (v128.load (local.get $pb)))))
            (local.set $pa (i32.add (local.get $pa) (local.get $acs)))
            (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $k_next)))
          (v128.store (local.get $pc) (local.get $acc))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $i_next)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $j_next)))
      ;; then the last N % 4 columns, one element at a time
      (block $j_done (loop $j_next
        (br_if $j_done (i32.ge_u (local.get $j) (local.get $N)))
        (local.set $i (i32.const 0))
        (block $i_done (loop $i_next
          (br_if $i_done (i32.ge_u (local.get $i) (local.get $M)))
          (local.set $pa (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $ars)) (i32.mul (local.get $k0) (local.get $acs)))))
          (local.set $pb (i32.add (local.get $b) (i32.add (i32.mul (local.get $k0) (local.get $ldb)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $s (f32.const 0))
          (if (local.get $load) (then (local.set $s (f32.load (local.get $pc)))))
          (local.set $k (i32.const 0))
          (block $k_done (loop $k_next
            (br_if $k_done (i32.ge_u (local.get $k) (local.get $kn)))
            (local.set $s (f32.add (local.get $s) (f32.mul
              (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
            (local.set $pa (i32.add (local.get $pa) (local.get $acs)))
            (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $k_next)))
          (f32.store (local.get $pc) (local.get $s))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $i_next)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $j_next)))
      (local.set $k0 (i32.add (local.get $k0) (i32.const 128)))
      (br $chunks_next))))

  ;; One 2 x 16 tile of gemm: c[i, j] = (load ? c[i, j] : 0) + sum_k a[i, k] b[k, j] over `rows`
  ;; values of k, from pa (row i; row i + 1 is ar bytes on), pb and pc (the tile's corners); sa:
  ;; bytes from a[i, k] to a[i, k + 1], sb and sc: row strides of b and c.
  (func $tile2x16
    (param $pa i32) (param $ar i32) (param $pb i32) (param $pc i32) (param $sa i32) (param $sb i32)
    (param $sc i32) (param $rows i32) (param $load i32)
    (local $k i32) (local $pa1 i32) (local $s0 v128) (local $s1 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $pa1 (i32.add (local.get $pa) (local.get $ar)))
    ;; the accumulators start at zero, or at c's values to add to
    (if (local.get $load)
      (then
        (local.set $c00 (v128.load offset=0 (local.get $pc)))
        (local.set $c01 (v128.load offset=16 (local.get $pc)))
        (local.set $c02 (v128.load offset=32 (local.get $pc)))
        (local.set $c03 (v128.load offset=48 (local.get $pc)))
        (local.set $c10 (v128.load offset=0 (i32.add (local.get $pc) (local.get $sc))))
        (local.set $c11 (v128.load offset=16 (i32.add (local.get $pc) (local.get $sc))))
        (local.set $c12 (v128.load offset=32 (i32.add (local.get $pc) (local.get $sc))))
        (local.set $c13 (v128.load offset=48 (i32.add (local.get $pc) (local.get $sc))))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $rows)))
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $b2 (v128.load offset=32 (local.get $pb)))
      (local.set $b3 (v128.load offset=48 (local.get $pb)))
      (local.set $s0 (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s0) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s0) (local.get $b1))))
      (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $s0) (local.get $b2))))
      (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $s0) (local.get $b3))))
      (local.set $s1 (v128.load32_splat (local.get $pa1)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s1) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s1) (local.get $b1))))
      (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $s1) (local.get $b2))))
      (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $s1) (local.get $b3))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
      (local.set $pa1 (i32.add (local.get $pa1) (local.get $sa)))
      (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $next)))
    (v128.store offset=0 (local.get $pc) (local.get $c00))
    (v128.store offset=16 (local.get $pc) (local.get $c01))
    (v128.store offset=32 (local.get $pc) (local.get $c02))
    (v128.store offset=48 (local.get $pc) (local.get $c03))
    (v128.store offset=0 (i32.add (local.get $pc) (local.get $sc)) (local.get $c10))
    (v128.store offset=16 (i32.add (local.get $pc) (local.get $sc)) (local.get $c11))
    (v128.store offset=32 (i32.add (local.get $pc) (local.get $sc)) (local.get $c12))
    (v128.store offset=48 (i32.add (local.get $pc) (local.get $sc)) (local.get $c13)))

  ;; One 1 x 16 tile of gemm, as above for a single row.
  (func $tile1x16
    (param $pa i32) (param $pb i32) (param $pc i32) (param $sa i32) (param $sb i32) (param $rows i32)
    (param $load i32)
    (local $k i32) (local $s0 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    ;; the accumulators start at zero, or at c's values to add to
    (if (local.get $load)
      (then
        (local.set $c00 (v128.load offset=0 (local.get $pc)))
        (local.set $c01 (v128.load offset=16 (local.get $pc)))
        (local.set $c02 (v128.load offset=32 (local.get $pc)))
        (local.set $c03 (v128.load offset=48 (local.get $pc)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $rows)))
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $b2 (v128.load offset=32 (local.get $pb)))
      (local.set $b3 (v128.load offset=48 (local.get $pb)))
      (local.set $s0 (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s0) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s0) (local.get $b1))))
      (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $s0) (local.get $b2))))
      (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $s0) (local.get $b3))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
      (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $next)))
    (v128.store offset=0 (local.get $pc) (local.get $c00))
    (v128.store offset=16 (local.get $pc) (local.get $c01))
    (v128.store offset=32 (local.get $pc) (local.get $c02))
    (v128.store offset=48 (local.get $pc) (local.get $c03)))

  ;; Bernoulli cross-entropy of logits l against targets t, summed (in double precision):
  ;; sum of max(l, 0) - l t + log(1 + exp(-|l|)). exp and log are Cephes' single-precision
  ;; polynomials (within a few ulp of the C library's); 2^n is built in the exponent bits of
  ;; n + 127 + 2^23 (a float whose low mantissa bits are n + 127). pmin and pmax keep a NaN first
  ;; operand, so a NaN logit gives a NaN loss.
  (func (export "bce_logits_sum") (param $l i32) (param $t i32) (param $n i32) (result f64)
    (local $i i32) (local $end i32) (local $lv v128) (local $tv v128) (local $e v128) (local $sp v128)
    (local $term v128) (local $a0 v128) (local $a1 v128)
    (local $er v128) (local $en v128) (local $lu v128) (local $lk v128) (local $lf v128) (local $lz v128) (local $lr v128)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $lv (v128.load (i32.add (local.get $l) (local.get $i))))
      (local.set $tv (v128.load (i32.add (local.get $t) (local.get $i))))
      (local.set $er (f32x4.pmin (f32x4.pmax (f32x4.neg (f32x4.abs (local.get $lv))) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88 88 88 88)))
      (local.set $en (f32x4.nearest (f32x4.mul (local.get $er) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
      (local.set $er (f32x4.sub (f32x4.sub (local.get $er)
        (f32x4.mul (local.get $en) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $en) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
      (local.set $e (f32x4.mul
        (f32x4.add (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $er)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $er)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $er)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $er)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $er)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
          (f32x4.mul (local.get $er) (local.get $er))) (local.get $er)) (v128.const f32x4 1 1 1 1))
        (i32x4.shl (f32x4.add (local.get $en) (v128.const f32x4 8388735 8388735 8388735 8388735)) (i32.const 23))))
      (local.set $lu (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1)))
      (local.set $lk (f32x4.gt (local.get $lu) (v128.const f32x4 1.41421356 1.41421356 1.41421356 1.41421356)))
      (local.set $lf (f32x4.sub (v128.bitselect (f32x4.mul (local.get $lu) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $lu)
        (local.get $lk)) (v128.const f32x4 1 1 1 1)))
      (local.set $lk (v128.and (local.get $lk) (v128.const f32x4 1 1 1 1)))
      (local.set $lz (f32x4.mul (local.get $lf) (local.get $lf)))
      (local.set $lr (f32x4.add (f32x4.add (f32x4.add (local.get $lf)
        (f32x4.mul (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2) (local.get $lf)) (v128.const f32x4 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1)) (local.get $lf)) (v128.const f32x4 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1)) (local.get $lf)) (v128.const f32x4 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1)) (local.get $lf)) (v128.const f32x4 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1)) (local.get $lf)) (v128.const f32x4 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1)) (local.get $lf)) (v128.const f32x4 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1)) (local.get $lf)) (v128.const f32x4 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1)) (local.get $lf)) (v128.const f32x4 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1)) (local.get $lf)) (local.get $lz)))
        (f32x4.mul (local.get $lk) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4)))
        (f32x4.sub (f32x4.mul (local.get $lk) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)) (f32x4.mul (local.get $lz) (v128.const f32x4 0.5 0.5 0.5 0.5)))))
      ;; u - 1 is exact; e / (u - 1) corrects the rounding of 1 + e (where u = 1, log1p(e) = e)
      (local.set $lf (f32x4.sub (local.get $lu) (v128.const f32x4 1 1 1 1)))
      (local.set $sp (v128.bitselect (local.get $e)
        (f32x4.mul (local.get $lr) (f32x4.div (local.get $e) (local.get $lf)))
        (f32x4.eq (local.get $lf) (v128.const f32x4 0 0 0 0))))
      (local.set $term (f32x4.add (f32x4.sub (f32x4.pmax (local.get $lv) (v128.const f32x4 0 0 0 0))
        (f32x4.mul (local.get $lv) (local.get $tv))) (local.get $sp)))
      (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $term))))
      (local.set $a1 (f64x2.add (local.get $a1) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $term) (local.get $term)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))
    ;; the last n % 4, one lane at a time
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $lv (v128.load32_splat (i32.add (local.get $l) (local.get $i))))
      (local.set $tv (v128.load32_splat (i32.add (local.get $t) (local.get $i))))
      (local.set $er (f32x4.pmin (f32x4.pmax (f32x4.neg (f32x4.abs (local.get $lv))) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88 88 88 88)))
      (local.set $en (f32x4.nearest (f32x4.mul (local.get $er) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
      (local.set $er (f32x4.sub (f32x4.sub (local.get $er)
        (f32x4.mul (local.get $en) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $en) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
      (local.set $e (f32x4.mul
        (f32x4.add (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $er)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $er)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $er)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $er)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $er)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
          (f32x4.mul (local.get $er) (local.get $er))) (local.get $er)) (v128.const f32x4 1 1 1 1))
        (i32x4.shl (f32x4.add (local.get $en) (v128.const f32x4 8388735 8388735 8388735 8388735)) (i32.const 23))))
      (local.set $lu (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1)))
      (local.set $lk (f32x4.gt (local.get $lu) (v128.const f32x4 1.41421356 1.41421356 1.41421356 1.41421356)))
      (local.set $lf (f32x4.sub (v128.bitselect (f32x4.mul (local.get $lu) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $lu)
        (local.get $lk)) (v128.const f32x4 1 1 1 1)))
      (local.set $lk (v128.and (local.get $lk) (v128.const f32x4 1 1 1 1)))
      (local.set $lz (f32x4.mul (local.get $lf) (local.get $lf)))
      (local.set $lr (f32x4.add (f32x4.add (f32x4.add (local.get $lf)
        (f32x4.mul (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2) (local.get $lf)) (v128.const f32x4 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1)) (local.get $lf)) (v128.const f32x4 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1)) (local.get $lf)) (v128.const f32x4 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1)) (local.get $lf)) (v128.const f32x4 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1)) (local.get $lf)) (v128.const f32x4 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1)) (local.get $lf)) (v128.const f32x4 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1)) (local.get $lf)) (v128.const f32x4 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1)) (local.get $lf)) (v128.const f32x4 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1)) (local.get $lf)) (local.get $lz)))
        (f32x4.mul (local.get $lk) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4)))
        (f32x4.sub (f32x4.mul (local.get $lk) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)) (f32x4.mul (local.get $lz) (v128.const f32x4 0.5 0.5 0.5 0.5)))))
      ;; u - 1 is exact; e / (u - 1) corrects the rounding of 1 + e (where u = 1, log1p(e) = e)
      (local.set $lf (f32x4.sub (local.get $lu) (v128.const f32x4 1 1 1 1)))
      (local.set $sp (v128.bitselect (local.get $e)
        (f32x4.mul (local.get $lr) (f32x4.div (local.get $e) (local.get $lf)))
        (f32x4.eq (local.get $lf) (v128.const f32x4 0 0 0 0))))
      (local.set $term (f32x4.add (f32x4.sub (f32x4.pmax (local.get $lv) (v128.const f32x4 0 0 0 0))
        (f32x4.mul (local.get $lv) (local.get $tv))) (local.get $sp)))
      (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4
        (v128.and (local.get $term) (v128.const i32x4 -1 0 0 0)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (local.set $a0 (f64x2.add (local.get $a0) (local.get $a1)))
    (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))

  ;; Its gradient: out = (sigmoid(l) - t) * scale, sigmoid(l) = 1 / (1 + exp(-l)).
  (func (export "bce_logits_grad") (param $l i32) (param $t i32) (param $out i32) (param $n i32)
    (param $scale f32)
    (local $i i32) (local $end i32) (local $lv v128) (local $e v128) (local $g v128) (local $vs v128)
    (local $er v128) (local $en v128)
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $lv (v128.load (i32.add (local.get $l) (local.get $i))))
      (local.set $er (f32x4.pmin (f32x4.pmax (f32x4.neg (local.get $lv)) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88 88 88 88)))
      (local.set $en (f32x4.nearest (f32x4.mul (local.get $er) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
      (local.set $er (f32x4.sub (f32x4.sub (local.get $er)
        (f32x4.mul (local.get $en) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $en) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
      (local.set $e (f32x4.mul
        (f32x4.add (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $er)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $er)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $er)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $er)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $er)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
          (f32x4.mul (local.get $er) (local.get $er))) (local.get $er)) (v128.const f32x4 1 1 1 1))
        (i32x4.shl (f32x4.add (local.get $en) (v128.const f32x4 8388735 8388735 8388735 8388735)) (i32.const 23))))
      (v128.store (i32.add (local.get $out) (local.get $i))
        (f32x4.mul (f32x4.sub (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e)))
          (v128.load (i32.add (local.get $t) (local.get $i)))) (local.get $vs)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $lv (v128.load32_splat (i32.add (local.get $l) (local.get $i))))
      (local.set $er (f32x4.pmin (f32x4.pmax (f32x4.neg (local.get $lv)) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88 88 88 88)))
      (local.set $en (f32x4.nearest (f32x4.mul (local.get $er) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
      (local.set $er (f32x4.sub (f32x4.sub (local.get $er)
        (f32x4.mul (local.get $en) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $en) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
      (local.set $e (f32x4.mul
        (f32x4.add (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $er)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $er)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $er)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $er)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $er)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
          (f32x4.mul (local.get $er) (local.get $er))) (local.get $er)) (v128.const f32x4 1 1 1 1))
        (i32x4.shl (f32x4.add (local.get $en) (v128.const f32x4 8388735 8388735 8388735 8388735)) (i32.const 23))))
      (local.set $g (f32x4.mul (f32x4.sub (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e)))
        (v128.load32_splat (i32.add (local.get $t) (local.get $i)))) (local.get $vs)))
      (f32.store (i32.add (local.get $out) (local.get $i)) (f32x4.extract_lane 0 (local.get $g)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next))))

  ;; Convolutions and their filter gradients, shared out between threads: every thread (the
  ;; caller's and Synthfold's workers, wasm-pool.ts) runs `work` on the same control block until no
  ;; slot of the job is left. A slot is claimed by compare-and-swap on word 0, and only then are
  ;; the job's kind and parameters read. While JavaScript writes a new job's parameters word 0
  ;; holds slot 0xffff (more than any job has), so no thread can claim anything until the job is
  ;; published complete; a thread that read anything of a finished job claims nothing of the next,
  ;; and which thread did which slot never changes the result. Control block (i32
  ;; words at ctl): 0 job << 16 | next slot, 1 slots done, 2 used by JavaScript, 4 the job's
  ;; slots, 5 its kind (1 filter gradient, 2 convolution, 3 transposed convolution), then its
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
          (else (call $tconv_slot (local.get $ctl) (local.get $thread) (local.get $slot))))))
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

  ;; One slot of a transposed convolution in sub-pixel form (wasm-subpixel.ts): one output phase
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
)
