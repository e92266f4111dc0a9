;; The `native` guest (world kvredis:guests/native): hand-written core WebAssembly, made a
;; component by wasm-tools. Canonical ABI layouts used below (offsets from the return area):
;;   result<own<bucket>, error>            tag @0, handle @4, error tag @4 / string @8,@12
;;   result<option<list<u8>>, error>       tag @0, option tag @4, list ptr @8, len @12
;;   result<_, error>, result<bool, error> tag @0, bool @4
;;   result<s64, error>                    tag @0, s64 @8
;;   result<key-response, error>           tag @0, keys ptr @4, len @8,
;;                                         cursor tag @12, ptr @16, len @20
;;   result<list<option<tuple<..>>>, error> tag @0, list ptr @4, len @8 (elements: 20 bytes,
;;                                         option tag first)
;;   result<_, cas-error>                  tag @0, cas-error tag @4, cas handle @8
(module
  (import "wasi:keyvalue/store@0.2.0-draft2" "open" (func $open (param i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[method]bucket.get"
    (func $get (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[method]bucket.set"
    (func $set (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[method]bucket.delete"
    (func $delete (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[method]bucket.exists"
    (func $exists (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[method]bucket.list-keys"
    (func $list_keys (param i32 i32 i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[resource-drop]bucket"
    (func $drop_bucket (param i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "increment"
    (func $increment (param i32 i32 i32 i64 i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "[static]cas.new"
    (func $cas_new (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "[method]cas.current"
    (func $cas_current (param i32 i32)))
  (import "wasi:keyvalue/atomics@0.2.0-draft2" "swap" (func $swap (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/batch@0.2.0-draft2" "get-many"
    (func $get_many (param i32 i32 i32 i32)))
  (import "wasi:keyvalue/batch@0.2.0-draft2" "set-many"
    (func $set_many (param i32 i32 i32 i32)))
  (import "wasi:clocks/monotonic-clock@0.2.0" "now" (func $now (result i64)))

  (memory (export "memory") 64)
  ;; 0..31: scratch for decimals; 32..79: the return area; 1024..: the latency of each
  ;; operation of the last loop (u64 nanoseconds, up to $lat_cap); the heap comes after.
  (global $ret i32 (i32.const 32))
  (global $lat i32 (i32.const 1024))
  (global $lat_cap i32 (i32.const 131072))
  (global $lat_count (mut i32) (i32.const 0))
  (global $heap (mut i32) (i32.const 1114112))
  (global $bucket (mut i32) (i32.const 0))
  (data (i32.const 900) "stale")

  ;; A bump allocator: guests built this way free nothing; each loop resets the heap.
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

  ;; note how long the operation started at `since` took
  (func $record (param $since i64)
    (local $now i64)
    (local.set $now (call $now))
    (if (i32.lt_u (global.get $lat_count) (global.get $lat_cap))
      (then
        (i64.store
          (i32.add (global.get $lat) (i32.shl (global.get $lat_count) (i32.const 3)))
          (i64.sub (local.get $now) (local.get $since)))
        (global.set $lat_count (i32.add (global.get $lat_count) (i32.const 1))))))

  ;; list<u64>: the per-operation latencies of the last loop
  (func (export "latencies") (result i32)
    (i32.store (global.get $ret) (global.get $lat))
    (i32.store offset=4 (global.get $ret) (global.get $lat_count))
    (global.get $ret))

  (func (export "open-bucket") (param $p i32) (param $n i32) (result i32)
    (call $open (local.get $p) (local.get $n) (global.get $ret))
    (if (i32.load8_u (global.get $ret)) (then (return (i32.const 0))))
    (global.set $bucket (i32.load offset=4 (global.get $ret)))
    (i32.const 1))

  (func (export "get-loop") (param $kp i32) (param $kn i32) (param $n i32) (result i64)
    (local $t0 i64) (local $total i64) (local $mark i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $get (global.get $bucket) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (if (i32.load8_u offset=4 (global.get $ret))
          (then
            (local.set $total
              (i64.add (local.get $total)
                       (i64.extend_i32_u (i32.load offset=12 (global.get $ret)))))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $total))

  (func (export "set-loop")
    (param $kp i32) (param $kn i32) (param $vp i32) (param $vn i32) (param $n i32)
    (local $t0 i64) (local $mark i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $set (global.get $bucket) (local.get $kp) (local.get $kn)
                   (local.get $vp) (local.get $vn) (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func (export "exists-loop") (param $kp i32) (param $kn i32) (param $n i32) (result i32)
    (local $t0 i64) (local $found i32) (local $mark i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $exists (global.get $bucket) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (local.set $found
          (i32.add (local.get $found) (i32.load8_u offset=4 (global.get $ret))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $found))

  (func (export "delete-loop") (param $kp i32) (param $kn i32) (param $n i32)
    (local $t0 i64) (local $mark i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $delete (global.get $bucket) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func (export "increment-loop") (param $kp i32) (param $kn i32) (param $n i32) (result i64)
    (local $t0 i64) (local $last i64) (local $mark i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $increment (global.get $bucket) (local.get $kp) (local.get $kn) (i64.const 1)
                         (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (local.set $last (i64.load offset=8 (global.get $ret)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $last))

  (func (export "get-many-loop") (param $kp i32) (param $kn i32) (param $n i32) (result i32)
    (local $t0 i64) (local $found i32) (local $mark i32) (local $at i32) (local $end i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $get_many (global.get $bucket) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    ;; count the keys found by the last call
    (local.set $at (i32.load offset=4 (global.get $ret)))
    (local.set $end
      (i32.add (local.get $at) (i32.mul (i32.load offset=8 (global.get $ret)) (i32.const 20))))
    (block $counted
      (loop $each
        (br_if $counted (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $found (i32.add (local.get $found) (i32.load8_u (local.get $at))))
        (local.set $at (i32.add (local.get $at) (i32.const 20)))
        (br $each)))
    (local.get $found))

  (func (export "set-many-loop") (param $ip i32) (param $in i32) (param $n i32)
    (local $t0 i64) (local $mark i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $set_many (global.get $bucket) (local.get $ip) (local.get $in) (global.get $ret))
        (call $record (local.get $t0))
        (call $check_ok)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func (export "list-all") (result i32)
    (local $t0 i64) (local $count i32) (local $mark i32) (local $has i32) (local $cp i32) (local $cn i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (loop $page
      ;; the cursor argument is read by the host before the answer is written, so the heap
      ;; (which holds the previous cursor) can be reused for the answer
      (global.set $heap (local.get $mark))
      (local.set $t0 (call $now))
      (call $list_keys (global.get $bucket) (local.get $has) (local.get $cp) (local.get $cn)
                       (global.get $ret))
      (call $record (local.get $t0))
      (call $check_ok)
      (local.set $count (i32.add (local.get $count) (i32.load offset=8 (global.get $ret))))
      (local.set $has (i32.load8_u offset=12 (global.get $ret)))
      (local.set $cp (i32.load offset=16 (global.get $ret)))
      (local.set $cn (i32.load offset=20 (global.get $ret)))
      (br_if $page (local.get $has)))
    (local.get $count))

  ;; decimal text at (p, n) -> i64 (digits only: the counters here never go negative)
  (func $parse (param $p i32) (param $n i32) (result i64)
    (local $v i64)
    (block $done
      (loop $digit
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $v
          (i64.add (i64.mul (local.get $v) (i64.const 10))
                   (i64.extend_i32_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $digit)))
    (local.get $v))

  ;; i64 -> decimal text ending at address 32 (the scratch area); returns its start
  (func $format (param $v i64) (result i32)
    (local $p i32)
    (local.set $p (i32.const 32))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.rem_u (local.get $v) (i64.const 10)) (i64.const 48)))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (local.get $p))

  (func (export "cas-increment-loop") (param $kp i32) (param $kn i32) (param $n i32) (result i32)
    (local $t0 i64) (local $retries i32) (local $mark i32) (local $cas i32) (local $value i64) (local $at i32)
    (local.set $mark (global.get $heap))
    (global.set $lat_count (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $heap (local.get $mark))
        (local.set $t0 (call $now))
        (call $cas_new (global.get $bucket) (local.get $kp) (local.get $kn) (global.get $ret))
        (call $check_ok)
        (local.set $cas (i32.load offset=4 (global.get $ret)))
        (block $swapped
          (loop $attempt
            (call $cas_current (local.get $cas) (global.get $ret))
            (call $check_ok)
            (local.set $value (i64.const 0))
            (if (i32.load8_u offset=4 (global.get $ret))
              (then
                (local.set $value
                  (call $parse (i32.load offset=8 (global.get $ret))
                               (i32.load offset=12 (global.get $ret))))))
            (local.set $at (call $format (i64.add (local.get $value) (i64.const 1))))
            ;; swap consumes the handle; on cas-failed it hands back a fresh one
            (call $swap (local.get $cas) (local.get $at) (i32.sub (i32.const 32) (local.get $at))
                        (global.get $ret))
            (br_if $swapped (i32.eqz (i32.load8_u (global.get $ret))))
            (if (i32.eqz (i32.load8_u offset=4 (global.get $ret))) (then unreachable))
            (local.set $cas (i32.load offset=8 (global.get $ret)))
            (local.set $retries (i32.add (local.get $retries) (i32.const 1)))
            (br $attempt)))
        (call $record (local.get $t0))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $retries))

  (func (export "stale-handle") (result i32)
    (local $h i32)
    (call $open (i32.const 900) (i32.const 5) (global.get $ret))
    (call $check_ok)
    (local.set $h (i32.load offset=4 (global.get $ret)))
    (call $drop_bucket (local.get $h))
    ;; wasmtime must refuse the dropped handle (a trap), before any host code runs
    (call $exists (local.get $h) (i32.const 900) (i32.const 5) (global.get $ret))
    (i32.const 1))
)
