// The componentize-js benchmark guest of world kvredis:bench/bench-cas (keyvalue draft2).
import { open } from "wasi:keyvalue/store@0.2.0-draft2";
import { Cas, swap } from "wasi:keyvalue/atomics@0.2.0-draft2";
import { now } from "wasi:clocks/monotonic-clock@0.2.0";

export function measure(op, identifier, key, size, n) {
  if (op !== "cas") throw new Error(`unknown operation ${op}`);
  const bucket = open(identifier);
  const value = new Uint8Array(size).fill(118);
  const started = now();
  for (let i = 0; i < n; i++) {
    const cas = Cas.new(bucket, key);
    cas.current();
    swap(cas, value);
  }
  return now() - started;
}
