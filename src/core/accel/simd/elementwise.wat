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
