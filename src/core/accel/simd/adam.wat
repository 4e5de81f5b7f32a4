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
