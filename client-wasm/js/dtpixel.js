// dtpixel for the browser: reads dt_pixel_id, remembers it first-party, fires the seed's hidden
// <img> (or a keepalive fetch) for page_load, add_to_cart and custom events. Never throws into
// the page: every entry point catches, and problems are console warnings with `debug: true`.
import { ready, loaded, build, canonical, error, pixelUrl, imgTag } from "./core.js";

export { pixelUrl, imgTag };

const DEFAULTS = {
  base: "https://dttrk.com",
  mode: "cached",
  transport: "img",
  persist: "session",
  ttlDays: 30,
  param: "dt_pixel_id",
  autoPageLoad: true,
  spa: false,
  respectPrivacy: true,
  debug: false,
};
const KEY = "dtpixel_id";
const W = globalThis;
const D = W.document;

// The options in effect, the pixel id (canonical) or null, whether start() ran, consent, and
// whether the first page_load waits for consent.
let o = DEFAULTS;
let id = null;
let started = false;
// The tracker of another copy of dtpixel that started first on this page (auto.js beside an
// imported bundle): this copy then forwards every call to it, so a page never counts twice.
let owner = null;
let allowed = true;
let missed = false;
// A pixel id from the URL not stored yet: storing it waits until the landing's page_load has
// been sent (the first storage access of a page can take milliseconds, and the browser starts an
// image's request in a microtask queued when its src is set: the write is queued after it).
let unsaved = null;
// URLs already requested by this page (cached mode requests each one once).
const sent = new Set();
// Calls made through the exports before start().
const early = [];

function warn(message) {
  if (o.debug) console.warn("dtpixel: " + message);
}

// Runs f, turning any exception into a debug warning.
function safe(f) {
  return function () {
    try {
      return f.apply(this, arguments);
    } catch (e) {
      warn(e);
    }
  };
}

function storage() {
  return o.persist == "local" ? W.localStorage : o.persist == "session" ? W.sessionStorage : null;
}

// Stores the id ("id|expiry ms", 0 = none), or removes it from both storages for null.
// Storage that throws (blocked, private mode, full) leaves the id in memory only.
function save(value) {
  try {
    if (value) {
      const s = storage();
      if (s) s.setItem(KEY, value + "|" + (o.persist == "local" ? Date.now() + o.ttlDays * 864e5 : 0));
    } else {
      for (const s of [W.localStorage, W.sessionStorage]) s.removeItem(KEY);
    }
  } catch (e) {
    warn("storage unavailable, keeping the pixel id in memory");
  }
}

// Stores the id read from the URL, unless consent was withdrawn meanwhile.
function flush() {
  if (unsaved && allowed) save(unsaved);
  unsaved = null;
}

function load() {
  try {
    const s = storage();
    const v = s && s.getItem(KEY);
    if (!v) return null;
    const [stored, expiry] = v.split("|");
    if (+expiry && +expiry < Date.now()) {
      s.removeItem(KEY);
      return null;
    }
    return canonical(stored);
  } catch (e) {
    return null;
  }
}

// The id from the URL (validated by the core, then stored by flush()), else the stored one.
function readId() {
  const v = new URLSearchParams(W.location.search).get(o.param);
  if (v != null) {
    const c = canonical(v);
    if (c) {
      unsaved = c;
      return c;
    }
    warn("ignoring invalid " + o.param + " " + JSON.stringify(v));
  }
  return load();
}

// Global Privacy Control or Do Not Track, when respectPrivacy is on.
function privacy() {
  const n = W.navigator || {};
  return o.respectPrivacy && (n.globalPrivacyControl === true || n.doNotTrack == "1" || W.doNotTrack == "1");
}

function send(url) {
  if (o.transport == "keepalive" && W.fetch) {
    fetch(url, { keepalive: true, mode: "no-cors", credentials: "include" }).catch(() => {});
    return;
  }
  // The seed's tag: <img height="1" width="1" style="display:none" src="…"/>.
  const img = D.createElement("img");
  img.setAttribute("height", "1");
  img.setAttribute("width", "1");
  img.setAttribute("style", "display:none");
  img.src = url;
  (D.body || D.documentElement).appendChild(img);
}

function fire(event, auto) {
  if (!started) return void early.push(["track", event]);
  if (typeof event != "string") return warn("the event type must be a string");
  if (!allowed) {
    missed = missed || !!auto;
    return;
  }
  if (!id || privacy()) return;
  const url = build(id, event, { base: o.base, cacheBust: o.mode == "bust" }, 0);
  if (typeof url != "string") return warn(error(url) + " (" + event + ")");
  if (o.mode != "bust") {
    if (sent.has(url)) return;
    sent.add(url);
  }
  // A prerendered page fires once it is shown.
  if (D.prerendering) D.addEventListener("prerenderingchange", () => send(url), { once: true });
  else send(url);
}

// Public: sends an event (add_to_cart, or a custom name) for the current pixel id.
export const track = safe((eventType) => {
  if (owner) owner.track(eventType);
  else fire(eventType);
});

// Public: consent(false) stops all firing and forgets the stored id; consent(true) resumes.
export const consent = safe((granted) => {
  if (!started) return void early.push(["consent", granted]);
  if (owner) return void owner.consent(granted);
  allowed = granted !== false;
  if (!allowed) {
    id = null;
    save(null);
  } else {
    if (!id && !privacy()) id = readId();
    if (missed) {
      missed = false;
      fire("page_load");
    }
    flush();
  }
});

const tracker = {
  track,
  consent,
  pixelId: () => (owner ? owner.pixelId() : id),
};

function run(command) {
  try {
    const f = tracker[command[0]];
    if (typeof f == "function") f.apply(null, command.slice(1));
    else warn("unknown command " + command[0]);
  } catch (e) {
    warn(e);
  }
}

// SPA page views: a page_load when pushState, replaceState or popstate changes the path.
function spa() {
  let path = W.location.pathname;
  const changed = safe(() => {
    if (W.location.pathname != path) {
      path = W.location.pathname;
      fire("page_load");
    }
  });
  for (const m of ["pushState", "replaceState"]) {
    const original = history[m];
    history[m] = function () {
      const r = original.apply(this, arguments);
      changed();
      return r;
    };
  }
  W.addEventListener("popstate", changed);
}

function begin(options) {
  try {
    if (!started && D) {
      o = Object.assign({}, DEFAULTS, options);
      o.ttlDays = +o.ttlDays || DEFAULTS.ttlDays;
      // The pre-load queue (window.dtpixel = window.dtpixel || []; dtpixel.push([...])), or the
      // tracker of a copy that started first.
      const queue = W.dtpixel;
      if (queue && queue.pixelId) {
        owner = queue;
        started = true;
        warn("dtpixel already runs on this page (auto.js and an import?): using the first one");
        for (const c of early.splice(0)) run(c);
        return tracker;
      }
      if (!loaded()) throw error(-5);
      started = true;
      if (privacy()) warn("Global Privacy Control / Do Not Track: firing nothing");
      else id = readId();
      if (o.spa) spa();
      // Declarative events: elements with data-dt-event fire on click (capture phase, so
      // before the page's own handlers can navigate or stop the event).
      D.addEventListener(
        "click",
        safe((e) => {
          const el = e.target && e.target.closest && e.target.closest("[data-dt-event]");
          if (el) fire(el.getAttribute("data-dt-event"));
        }),
        true,
      );
      // The queue, then calls made through the exports, in order; later pushes run at once.
      W.dtpixel = Object.assign({ push: (c) => run(c) }, tracker);
      for (const c of [].concat(Array.isArray(queue) ? queue : [], early.splice(0))) run(c);
      // An inline tag (the core's InlineTag) has already requested this page's page_load.
      const inlined = queue && queue.pageLoad;
      if (typeof inlined == "string") sent.add(inlined);
      else if (o.autoPageLoad) fire("page_load", true);
    }
  } catch (e) {
    warn(e);
  }
  Promise.resolve().then(flush);
  return tracker;
}

// Public: starts tracking (once per page); resolves to the tracker. With the wasm core compiled
// (as it is when this module has evaluated, in every current browser) it fires at once.
export function start(options) {
  const go = () => begin(options);
  return loaded() ? Promise.resolve(go()) : ready.then(go);
}
