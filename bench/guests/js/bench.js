// The componentize-js (StarlingMonkey) benchmark guest, world kvredis:bench/bench.
import { open } from "wasi:keyvalue/store@0.2.0-draft";
import { increment } from "wasi:keyvalue/atomics@0.2.0-draft";
import { now } from "wasi:clocks/monotonic-clock@0.2.0";

const LOOPS = {
  get(bucket, key, value, n) {
    for (let i = 0; i < n; i++) {
      if (bucket.get(key) === undefined) throw new Error(`get ${key}: no value`);
    }
  },
  set(bucket, key, value, n) {
    for (let i = 0; i < n; i++) bucket.set(key, value);
  },
  exists(bucket, key, value, n) {
    for (let i = 0; i < n; i++) bucket.exists(key);
  },
  delete(bucket, key, value, n) {
    for (let i = 0; i < n; i++) bucket.delete(key);
  },
  increment(bucket, key, value, n) {
    for (let i = 0; i < n; i++) increment(bucket, key, 1n);
  },
};

export function measure(op, identifier, key, size, n) {
  const loop = LOOPS[op];
  if (loop === undefined) throw new Error(`unknown operation ${op}`);
  const bucket = open(identifier);
  const value = new Uint8Array(size).fill(118);
  if (op === "get") bucket.set(key, value);
  const started = now();
  loop(bucket, key, value, n);
  return now() - started;
}
