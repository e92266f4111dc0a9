// A componentize-js HTTP handler: GET /hog keeps allocating (and touching) 1 MiB blocks, so a
// memory limit stops it; any other path answers 200 "ok".
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from "wasi:http/types@0.2.0";

const held = [];

export const incomingHandler = {
  handle(request, responseOut) {
    if (request.pathWithQuery() === "/hog") {
      for (;;) held.push(new Uint8Array(1 << 20).fill(1));
    }
    const response = new OutgoingResponse(new Fields());
    const body = response.body();
    ResponseOutparam.set(responseOut, { tag: "ok", val: response });
    const stream = body.write();
    stream.blockingWriteAndFlush(new TextEncoder().encode("ok\n"));
    stream[Symbol.dispose]();
    OutgoingBody.finish(body, undefined);
  },
};
