;; The hand-written benchmark guest of world kvredis:bench/bench (keyvalue 0.2.0-draft): it
;; costs next to nothing itself, so its time is the host's. Made a component by wasm-tools.
;; Canonical ABI layouts (offsets from the return area at 32):
;;   result<own<bucket>, error>          tag @0, handle @4
;;   result<option<list<u8>>, error>     tag @0, option tag @4, list ptr @8, len @12
;;   result<_, error>, result<bool, error>, result<u64, error>: tag @0 (bool @4, u64 @8)
(module
  (import "wasi:keyvalue/store@0.2.0-draft" "open" (func $open (param i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft" "[method]bucket.get"
    (func $get (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft" "[method]bucket.set"
    (func $set (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft" "[method]bucket.delete"
    (func $delete (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft" "[method]bucket.exists"
    (func $exists (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft" "[resource-drop]bucket"
    (func $drop_bucket (param i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft" "increment"
    (func $increment (param i32 i32 i32 i64 i32)))
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

  ;; one operation, picked by the first letter of its name: get set exists delete increment
  (func $once (param $op i32) (param $b i32) (param $kp i32) (param $kn i32)
    (param $vp i32) (param $vn i32)
    (if (i32.eq (local.get $op) (i32.const 103))  ;; g
      (then
        (call $get (local.get $b) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $check_ok)
        (if (i32.eqz (i32.load8_u offset=4 (global.get $ret))) (then unreachable))
        (return)))
    (if (i32.eq (local.get $op) (i32.const 115))  ;; s
      (then
        (call $set (local.get $b) (local.get $kp) (local.get $kn)
                   (local.get $vp) (local.get $vn) (global.get $ret))
        (call $check_ok)
        (return)))
    (if (i32.eq (local.get $op) (i32.const 101))  ;; e
      (then
        (call $exists (local.get $b) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $check_ok)
        (return)))
    (if (i32.eq (local.get $op) (i32.const 100))  ;; d
      (then
        (call $delete (local.get $b) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $check_ok)
        (return)))
    (if (i32.eq (local.get $op) (i32.const 105))  ;; i
      (then
        (call $increment (local.get $b) (local.get $kp) (local.get $kn) (i64.const 1)
                         (global.get $ret))
        (call $check_ok)
        (return)))
    unreachable)

  (func (export "measure")
    (param $op i32) (param $on i32) (param $bp i32) (param $bn i32) (param $kp i32)
    (param $kn i32) (param $size i32) (param $n i32) (result i64)
    (local $first i32) (local $b i32) (local $vp i32) (local $mark i32) (local $t0 i64)
    (local.set $first (i32.load8_u (local.get $op)))
    (call $open (local.get $bp) (local.get $bn) (global.get $ret))
    (call $check_ok)
    (local.set $b (i32.load offset=4 (global.get $ret)))
    (local.set $vp (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $size)))
    (memory.fill (local.get $vp) (i32.const 118) (local.get $size))
    (if (i32.eq (local.get $first) (i32.const 103))
      (then (call $once (i32.const 115) (local.get $b) (local.get $kp) (local.get $kn)
                        (local.get $vp) (local.get $size))))
    (local.set $mark (global.get $heap))
    (local.set $t0 (call $now))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (call $once (local.get $first) (local.get $b) (local.get $kp) (local.get $kn)
                    (local.get $vp) (local.get $size))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.set $t0 (i64.sub (call $now) (local.get $t0)))
    (call $drop_bucket (local.get $b))
    ;; the arguments and the value were allocated for this call only
    (global.set $heap (i32.const 1024))
    (local.get $t0))
)
