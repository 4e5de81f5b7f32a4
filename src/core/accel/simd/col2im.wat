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
