// One tag, no build step:
// <script type="module" async src=".../dtpixel/auto.js" data-base="https://dttrk.com" data-mode="cached"></script>
// Each start() option is a data- attribute (data-respect-privacy="false", data-ttl-days="7", ...).
// `xtask pkg` bundles dtpixel.js and the wasm core into this file: the one tag is one request.
import { start } from "./dtpixel.js";

const options = {};
for (const s of document.scripts) {
  if (s.src == import.meta.url) {
    for (const [k, v] of Object.entries(s.dataset)) options[k] = v == "false" ? false : v == "true" || v == "" ? true : v;
  }
}
start(options);
