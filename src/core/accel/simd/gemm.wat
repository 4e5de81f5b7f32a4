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
