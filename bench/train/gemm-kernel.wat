;; bench/train/gemm.ts: an experimental single-threaded GEMM, measured against XNNPACK's products
;; (not used by the app). C = A B with A packed in 4-row panels (k-major, 16 bytes a k) and B in
;; 8-column panels (32 bytes a k); a 4 x 8 tile of accumulators in registers. The partial tile at
;; the edges goes through a scratch tile rather than a call: with a call after the k loop, V8's
;; TurboFan spills the accumulators inside the loop (45 instead of 62 GFLOP/s here).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; C[rows x cols] = Apanel * Bpanel; C's rows $ldc bytes apart; $scratch: 32 floats.
  (func $tile (param $pa i32) (param $pb i32) (param $K i32) (param $pc i32) (param $ldc i32)
    (param $rows i32) (param $cols i32) (param $scratch i32)
    (local $b0 v128) (local $b1 v128) (local $s v128) (local $end i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $pb) (i32.shl (local.get $K) (i32.const 5))))
    (loop $k
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (br_if $k (i32.ne (local.tee $pb (i32.add (local.get $pb) (i32.const 32))) (local.get $end))))
    (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))
      (then
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c10))
        (v128.store offset=16 (local.get $pc) (local.get $c11))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c20))
        (v128.store offset=16 (local.get $pc) (local.get $c21))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c30))
        (v128.store offset=16 (local.get $pc) (local.get $c31))
        (return)))
    ;; a partial tile: through a scratch tile at address 64 (no calls while the accumulators live)
    (v128.store offset=0 (local.get $scratch) (local.get $c00))
    (v128.store offset=16 (local.get $scratch) (local.get $c01))
    (v128.store offset=32 (local.get $scratch) (local.get $c10))
    (v128.store offset=48 (local.get $scratch) (local.get $c11))
    (v128.store offset=64 (local.get $scratch) (local.get $c20))
    (v128.store offset=80 (local.get $scratch) (local.get $c21))
    (v128.store offset=96 (local.get $scratch) (local.get $c30))
    (v128.store offset=112 (local.get $scratch) (local.get $c31))
    (local.set $end (i32.const 0))
    (loop $r
      (local.set $pb (i32.const 0))
      (loop $cl
        (f32.store (i32.add (local.get $pc) (i32.shl (local.get $pb) (i32.const 2)))
          (f32.load (i32.add (local.get $scratch) (i32.add (i32.shl (local.get $end) (i32.const 5)) (i32.shl (local.get $pb) (i32.const 2))))))
        (br_if $cl (i32.lt_u (local.tee $pb (i32.add (local.get $pb) (i32.const 1))) (local.get $cols))))
      (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
      (br_if $r (i32.lt_u (local.tee $end (i32.add (local.get $end) (i32.const 1))) (local.get $rows)))))

  ;; pack A panels $i0..$i1: element (m, k) at $a + m*$rsa + k*$csa (bytes); rows past M are 0
  (func (export "pack_a") (param $a i32) (param $rsa i32) (param $csa i32) (param $ap i32)
    (param $M i32) (param $K i32) (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $r i32) (local $k i32) (local $m i32) (local $src i32) (local $dst i32)
    (local.set $i (local.get $i0))
    (block $done (loop $panel
      (br_if $done (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $r (i32.const 0))
      (loop $rows
        (local.set $m (i32.add (i32.shl (local.get $i) (i32.const 2)) (local.get $r)))
        (local.set $dst (i32.add (i32.add (local.get $ap) (i32.mul (local.get $i) (i32.shl (local.get $K) (i32.const 4)))) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $k (i32.const 0))
        (if (i32.lt_u (local.get $m) (local.get $M))
          (then
            (local.set $src (i32.add (local.get $a) (i32.mul (local.get $m) (local.get $rsa))))
            (loop $ks
              (f32.store (local.get $dst) (f32.load (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $csa)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K)))))
          (else
            (loop $ks
              (f32.store (local.get $dst) (f32.const 0))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))))
        (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 4))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $panel))))

  ;; pack B panels $j0..$j1: element (k, n) at $b + k*$rsb + n*$csb (bytes); columns past N are 0
  (func (export "pack_b") (param $b i32) (param $rsb i32) (param $csb i32) (param $bp i32)
    (param $K i32) (param $N i32) (param $j0 i32) (param $j1 i32)
    (local $j i32) (local $k i32) (local $n i32) (local $src i32) (local $dst i32) (local $c i32)
    (local.set $j (local.get $j0))
    (block $done (loop $panel
      (br_if $done (i32.ge_u (local.get $j) (local.get $j1)))
      (local.set $dst (i32.add (local.get $bp) (i32.mul (local.get $j) (i32.shl (local.get $K) (i32.const 5)))))
      (local.set $n (i32.shl (local.get $j) (i32.const 3)))
      (local.set $src (i32.add (local.get $b) (i32.mul (local.get $n) (local.get $csb))))
      (local.set $k (i32.const 0))
      (if (i32.and (i32.eq (local.get $csb) (i32.const 4)) (i32.le_u (i32.add (local.get $n) (i32.const 8)) (local.get $N)))
        (then (loop $row
          (v128.store (local.get $dst) (v128.load (local.get $src)))
          (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
          (local.set $src (i32.add (local.get $src) (local.get $rsb)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
          (br_if $row (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K)))))
        (else (loop $row
          (local.set $c (i32.const 0))
          (loop $col
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
              (if (result f32) (i32.lt_u (i32.add (local.get $n) (local.get $c)) (local.get $N))
                (then (f32.load (i32.add (local.get $src) (i32.mul (local.get $c) (local.get $csb)))))
                (else (f32.const 0))))
            (br_if $col (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (i32.const 8))))
          (local.set $src (i32.add (local.get $src) (local.get $rsb)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
          (br_if $row (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $panel))))

  ;; C = A B over A panels $i0..$i1 (all B panels for each)
  (func (export "gemm") (param $ap i32) (param $bp i32) (param $c i32) (param $ldc i32)
    (param $M i32) (param $N i32) (param $K i32) (param $i0 i32) (param $i1 i32) (param $scratch i32)
    (local $i i32) (local $j i32) (local $nJ i32) (local $pa i32) (local $rows i32)
    (local.set $nJ (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (local.set $i (local.get $i0))
    (block $done (loop $ip
      (br_if $done (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $pa (i32.add (local.get $ap) (i32.mul (local.get $i) (i32.shl (local.get $K) (i32.const 4)))))
      (local.set $rows (i32.sub (local.get $M) (i32.shl (local.get $i) (i32.const 2))))
      (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
      (local.set $j (i32.const 0))
      (loop $jp
        (call $tile (local.get $pa)
          (i32.add (local.get $bp) (i32.mul (local.get $j) (i32.shl (local.get $K) (i32.const 5))))
          (local.get $K)
          (i32.add (local.get $c) (i32.add (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 5))))
          (local.get $ldc) (local.get $rows)
          (select (i32.const 8) (i32.sub (local.get $N) (i32.shl (local.get $j) (i32.const 3)))
            (i32.ge_u (i32.sub (local.get $N) (i32.shl (local.get $j) (i32.const 3))) (i32.const 8)))
          (local.get $scratch))
        (br_if $jp (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $nJ))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $ip))))

)
