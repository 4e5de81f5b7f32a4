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
