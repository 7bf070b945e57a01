/**
 * dtpixel: influencer-attribution tracking pixels for shops.
 *
 * Pixel URLs have the form `{base}/pixel/{pixelId}/event.gif?event_type={eventType}` and are
 * built by the dtpixel Rust core compiled to WebAssembly, so they match the Rust crate exactly.
 */

/** `page_load`, `add_to_cart`, or a custom name: 1–64 of `a-z`, `0-9`, `_`, starting with a letter. */
export type EventType = "page_load" | "add_to_cart" | (string & {});

/** Options of {@link pixelUrl} and {@link imgTag}. */
export interface UrlOptions {
  /** Where pixels go: an https origin with an optional path (http only for loopback). Default `https://dttrk.com`. */
  base?: string;
  /** `true` for a random cache-buster (`cb`, counted on every load), or your own token. Default: none (stable URL). */
  cacheBust?: boolean | string | number;
}

/** Options of {@link imgTag}. */
export interface TagOptions extends UrlOptions {
  /** Wrap the tag in `<noscript>…</noscript>`. */
  noscript?: boolean;
}

/**
 * The pixel URL. Pure; works in browsers and under Node.
 * @param eventType default `page_load`.
 * @throws TypeError naming the invalid input (pixel id, event type, base URL).
 */
export function pixelUrl(pixelId: string, eventType?: EventType, options?: UrlOptions): string;

/**
 * The hidden tag `<img height="1" width="1" style="display:none" src="…"/>`, HTML-escaped.
 * Pure; works in browsers and under Node.
 * @throws TypeError naming the invalid input.
 */
export function imgTag(pixelId: string, eventType?: EventType, options?: TagOptions): string;

/** Options of {@link start}; with `auto.js` each is a `data-` attribute (`data-ttl-days="7"`). */
export interface StartOptions {
  /** Where pixels go. Default `https://dttrk.com`. */
  base?: string;
  /**
   * `cached` (default): stable URLs, so the browser cache counts an event once per person, pixel
   * and event type; a page never requests the same URL twice. `bust`: a random `cb` on every
   * fire, so every load counts.
   */
  mode?: "cached" | "bust";
  /** `img` (default): the hidden `<img>`. `keepalive`: `fetch` with `keepalive`, which survives a navigation. Same URL. */
  transport?: "img" | "keepalive";
  /** Where the id is remembered for later pages: `session` (default), `local` (for `ttlDays`), or `none`. */
  persist?: "session" | "local" | "none";
  /** Attribution window of `persist: "local"`, in days. Default 30. */
  ttlDays?: number;
  /** The query parameter carrying the pixel id. Default `dt_pixel_id`. */
  param?: string;
  /** Fire `page_load` on start. Default true. */
  autoPageLoad?: boolean;
  /** Fire `page_load` when `pushState`/`replaceState`/`popstate` changes the path (not for same-path changes). Default false. */
  spa?: boolean;
  /** Fire nothing when Global Privacy Control or Do Not Track is on. Default true. */
  respectPrivacy?: boolean;
  /** Console warnings for invalid ids, events and options. Default false. */
  debug?: boolean;
}

/** The started tracker; its methods never throw. */
export interface Tracker {
  /** Fires an event (`add_to_cart` or a custom name) for the current pixel id, if any. */
  track(eventType: EventType): void;
  /** `false` stops all firing and forgets the stored id; `true` resumes (and sends a `page_load` consent held back). */
  consent(granted: boolean): void;
  /** The pixel id in effect (canonical lowercase), or null. */
  pixelId(): string | null;
}

/**
 * Starts tracking (once per page): reads the pixel id from the URL or storage, fires `page_load`,
 * wires `data-dt-event` clicks and drains the `window.dtpixel` queue. Never rejects. In current
 * browsers it fires synchronously, before the promise resolves (the embedded wasm core compiled
 * when the module evaluated).
 * When another copy of dtpixel started first on the page (`auto.js` beside the import), it starts
 * nothing and resolves to a tracker that forwards to that copy. Under Node it resolves to a
 * tracker that does nothing.
 */
export function start(options?: StartOptions): Promise<Tracker>;

/** {@link Tracker.track}; calls before {@link start} are queued. */
export function track(eventType: EventType): void;

/** {@link Tracker.consent}; calls before {@link start} are queued. */
export function consent(granted: boolean): void;

/** A command of the pre-load queue: `window.dtpixel = window.dtpixel || []; dtpixel.push(["track", "add_to_cart"])`. */
export type Command = ["track", EventType] | ["consent", boolean];

declare global {
  interface Window {
    /** Before the bundle loads, an array of commands; after `start`, the tracker with `push`. */
    dtpixel?: Command[] | (Tracker & { push(command: Command): void });
  }
}
