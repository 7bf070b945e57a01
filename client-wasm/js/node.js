// dtpixel for Node (and other servers with node:fs): pixelUrl and imgTag for partners generating
// tags server-side. The page functions exist so that shared code imports cleanly; they do nothing.
import { readFileSync } from "node:fs";
import { imports, init, pixelUrl, imgTag } from "./core.js";

const wasm = new WebAssembly.Module(readFileSync(new URL("dtpixel_bg.wasm", import.meta.url)));
init(new WebAssembly.Instance(wasm, imports).exports);

export { pixelUrl, imgTag };

const tracker = { track() {}, consent() {}, pixelId: () => null };
export const track = tracker.track;
export const consent = tracker.consent;
export function start() {
  return Promise.resolve(tracker);
}
