// The componentize-js (StarlingMonkey) twin of examples/http-counter: GET /NAME adds one to
// NAME in the bucket `counter` (or the one `?bucket=` names) and answers the new count. Any
// other method gets 405; GET / gets 404.
//
// componentize-js 0.23 attaches its fetch event only to wasi:http@0.2.10 (its engine's own
// version), so a component of the 0.2.0 WIT implements incoming-handler itself.
import { open } from "wasi:keyvalue/store@0.2.0-draft";
import { increment } from "wasi:keyvalue/atomics@0.2.0-draft";
import {
  Fields,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
} from "wasi:http/types@0.2.0";

const encoder = new TextEncoder();

function respond(responseOut, status, text) {
  const headers = Fields.fromList([["content-type", encoder.encode("text/plain")]]);
  const response = new OutgoingResponse(headers);
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: "ok", val: response });
  const stream = body.write();
  stream.blockingWriteAndFlush(encoder.encode(text));
  stream[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
}

function count(request) {
  if (request.method().tag !== "get") return [405, "only GET counts\n"];
  const target = new URL(request.pathWithQuery() ?? "/", "http://component");
  const name = target.pathname.replace(/^\/+|\/+$/g, "");
  if (!name) return [404, "GET /NAME counts NAME\n"];
  const bucketName = target.searchParams.get("bucket") ?? "counter";
  try {
    return [200, `${increment(open(bucketName), name, 1n)}\n`];
  } catch (err) {
    return [500, `keyvalue: ${JSON.stringify(err.payload ?? String(err))}\n`];
  }
}

export const incomingHandler = {
  handle(request, responseOut) {
    const [status, text] = count(request);
    respond(responseOut, status, text);
  },
};
