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
