// A componentize-js command that keeps allocating (and touching) 1 MiB blocks: under a
// memory limit, StarlingMonkey gives up when a growth is refused.
const held = [];

export const run = {
  run() {
    for (;;) held.push(new Uint8Array(1 << 20).fill(1));
  },
};
