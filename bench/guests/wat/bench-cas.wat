;; The hand-written benchmark guest of world kvredis:bench/bench-cas (keyvalue 0.2.0-draft2):
;; `measure("cas", ...)` snapshots, reads and swaps, n times. Layouts from the return area:
;;   result<own<bucket>, error>, result<own<cas>, error>   tag @0, handle @4
;;   result<option<list<u8>>, error>                        tag @0
;;   result<_, cas-error>                                   tag @0
(module
  (import "wasi:keyvalue/store@0.2.0-draft2" "open" (func $open (param i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[resource-drop]bucket"
    (func $drop_bucket (param i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "[static]cas.new"
    (func $cas_new (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "[method]cas.current"
    (func $cas_current (param i32 i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "swap" (func $swap (param i32 i32 i32 i32)))
  (import "wasi:clocks/monotonic-clock@0.2.0" "now" (func $now (result i64)))

  (memory (export "memory") 2)
  (global $ret i32 (i32.const 32))
  (global $heap (mut i32) (i32.const 1024))

  ;; A bump allocator; `measure` takes back what each call's answer used.
  (func $realloc (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32) (local $end i32) (local $have i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $p) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.add (i32.shr_u (i32.sub (local.get $end) (local.get $have)) (i32.const 16))
                         (i32.const 1)))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (if (local.get $old)
      (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
    (local.get $p))

  (func $check_ok
    (if (i32.load8_u (global.get $ret)) (then unreachable)))

  (func (export "measure")
    (param $op i32) (param $on i32) (param $bp i32) (param $bn i32) (param $kp i32)
    (param $kn i32) (param $size i32) (param $n i32) (result i64)
    (local $b i32) (local $vp i32) (local $mark i32) (local $t0 i64) (local $cas i32)
    (if (i32.ne (i32.load8_u (local.get $op)) (i32.const 99)) (then unreachable))  ;; "cas"
    (call $open (local.get $bp) (local.get $bn) (global.get $ret))
    (call $check_ok)
    (local.set $b (i32.load offset=4 (global.get $ret)))
    (local.set $vp (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $size)))
    (memory.fill (local.get $vp) (i32.const 118) (local.get $size))
    (local.set $mark (global.get $heap))
    (local.set $t0 (call $now))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (call $cas_new (local.get $b) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $check_ok)
        (local.set $cas (i32.load offset=4 (global.get $ret)))
        (call $cas_current (local.get $cas) (global.get $ret))
        (call $check_ok)
        ;; swap consumes the handle; alone on the key, it never meets cas-failed
        (call $swap (local.get $cas) (local.get $vp) (local.get $size) (global.get $ret))
        (call $check_ok)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.set $t0 (i64.sub (call $now) (local.get $t0)))
    (call $drop_bucket (local.get $b))
    (global.set $heap (i32.const 1024))
    (local.get $t0))
)
