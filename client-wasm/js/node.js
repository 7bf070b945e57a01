// dtpixel for Node (and other servers): pixelUrl and imgTag for partners generating tags
// server-side. The wasm core is embedded in core.js and instantiated when it is imported. The page
// functions exist so that shared code imports cleanly; they do nothing.
import { pixelUrl, imgTag } from "./core.js";

export { pixelUrl, imgTag };

const tracker = { track() {}, consent() {}, pixelId: () => null };
export const track = tracker.track;
export const consent = tracker.consent;
export function start() {
  return Promise.resolve(tracker);
}
