// dtpixel: the pure half, shared by the browser (dtpixel.js) and Node (node.js) entry points.
// Pixel URLs and tags are built by the Rust core crate compiled to wasm (client-wasm/src/lib.rs):
// strings go through the module's exchange buffer, 2048 bytes of input then the output.
//
// `xtask pkg` drops the full-line comments and the indentation of these files when it writes pkg/.

// What the negative return codes of the wasm functions mean.
const ERRORS = ["invalid pixel id", "invalid event type", "invalid base URL", "input too long"];
const enc = new TextEncoder();
const dec = new TextDecoder();
// The wasm module's exports, once instantiated.
let w;

// The wasm module, embedded: `xtask pkg` replaces this placeholder with the module's bytes as a
// string literal, one character (U+0000 to U+00FF) per byte, so that a page gets the core with
// the script itself, in one request. It is compiled and instantiated synchronously while this
// module evaluates (a module this small compiles in well under a millisecond), so a tracker can
// fire the moment its script has run. Browsers that refuse to compile it synchronously on the
// main thread (Chromium before its 8 MB limit allowed only 4 KB) compile it asynchronously: then
// `ready` settles once it is there. A page whose Content-Security-Policy forbids compiling wasm
// (no 'wasm-unsafe-eval') gets a core that builds nothing.
//
// What the module imports is only wasm-bindgen's externref-table hook, which has nothing to do
// here (the exports take and return numbers); `xtask pkg` checks that this is all it imports.
const WASM = "__DTPIXEL_WASM__";
const imports = { "./dtpixel_bg.js": { __wbindgen_init_externref_table() {} } };
let later;
try {
  // A plain loop over locals: several times faster on a page's first run than Uint8Array.from
  // with a mapper.
  const s = WASM;
  const n = s.length;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = s.charCodeAt(i);
  try {
    w = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;
  } catch (e) {
    later = WebAssembly.instantiate(bytes, imports).then((r) => {
      w = r.instance.exports;
    });
  }
} catch (e) {}

// Settles once the module is instantiated or has failed to.
export const ready = Promise.resolve(later).catch(() => {});

// Whether the wasm core is there.
export function loaded() {
  return !!w;
}

// Writes `strings` one after the other into the exchange buffer and calls the wasm function `f`
// with their byte lengths followed by `more`: the output string, or a negative error code.
function call(f, strings, more) {
  if (!w) return -5;
  const io = w.io();
  const lens = [];
  let at = 0;
  for (let s of strings) {
    s = String(s);
    const r = enc.encodeInto(s, new Uint8Array(w.memory.buffer, io + at, 2048 - at));
    if (r.read < s.length) return -4;
    lens.push(r.written);
    at += r.written;
  }
  const n = w[f](...lens, ...more);
  return n < 0 ? n : dec.decode(new Uint8Array(w.memory.buffer, io + 2048, n));
}

// The URL (tag = 0) or tag (4, or 12 for <noscript>) for a pixel id and event type, with the
// options { base, cacheBust } (cacheBust: true for a random one, or a token): a string, or a
// negative error code.
export function build(id, event, options, tag) {
  const o = options || {};
  const cb = o.cacheBust;
  const token = typeof cb == "string" || typeof cb == "number";
  const bits = new Uint32Array(2);
  if (cb === true) crypto.getRandomValues(bits);
  const flags = (cb === true ? 1 : token ? 2 : 0) | tag;
  return call("pixel_url", [o.base || "", id, event == null ? "page_load" : event, token ? cb : ""], [flags, bits[0], bits[1]]);
}

// The canonical lowercase form of a pixel id, or null when it is not one.
export function canonical(id) {
  const c = call("canonical_id", [id], []);
  return typeof c == "string" ? c : null;
}

// The message for an error code.
export function error(code) {
  return "dtpixel: " + (ERRORS[-code - 1] || "the wasm module did not load");
}

function must(v) {
  if (typeof v != "string") throw new TypeError(error(v));
  return v;
}

// Public: the pixel URL. Throws a TypeError naming what is invalid.
export function pixelUrl(pixelId, eventType, options) {
  return must(build(pixelId, eventType, options, 0));
}

// Public: the hidden <img> tag, HTML-escaped (options.noscript wraps it in <noscript>).
export function imgTag(pixelId, eventType, options) {
  return must(build(pixelId, eventType, options, options && options.noscript ? 12 : 4));
}
