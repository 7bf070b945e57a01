// One tag, no build step:
// <script async src=".../dtpixel/auto.js" data-base="https://dttrk.com" data-mode="cached"></script>
// Each start() option is a data- attribute (data-respect-privacy="false", data-ttl-days="7", ...).
// `xtask pkg` bundles dtpixel.js and the wasm core into this file, as a classic script: the one
// tag is one request. type="module" works too.
import { start } from "./dtpixel.js";

// The tag that loaded this file: document.currentScript while a classic script runs; as a module
// (where it is null), the last script whose path ends in auto.js.
const tag =
  document.currentScript ||
  [...document.scripts].reverse().find((s) => /\/auto\.js(?:[?#]|$)/.test(s.src));
const options = {};
for (const [k, v] of Object.entries(tag ? tag.dataset : {})) {
  options[k] = v == "false" ? false : v == "true" || v == "" ? true : v;
}
start(options);
