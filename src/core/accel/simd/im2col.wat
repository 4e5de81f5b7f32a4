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
