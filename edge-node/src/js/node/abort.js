// AbortController, AbortSignal and Request (globals) — compiled the first time a function asks for it; see runtime.js "Node modules
// made on first use".
((helpers) => {
  "use strict";
  const { Headers, core, toBytes } = helpers;
  // AbortController and AbortSignal, as WHATWG defines them (an EventTarget-like signal).
  class AbortSignal {
    #aborted = false; #reason = undefined; #listeners = []; #onabort = null;
    // An event handler attribute takes its place among the listeners when first set (DOM).
    get onabort() { return this.#onabort; }
    set onabort(fn) {
      if (this.#onabort === null && fn !== null) this.#listeners.push([(e) => typeof this.#onabort === "function" && this.#onabort.call(this, e), false, true]);
      this.#onabort = typeof fn === "function" ? fn : null;
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    addEventListener(type, fn, opts) { if (type === "abort") this.#listeners.push([fn, !!(opts && opts.once)]); }
    removeEventListener(type, fn) { this.#listeners = this.#listeners.filter(([f]) => f !== fn); }
    _abort(reason) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      const event = { type: "abort", target: this };
      for (const [fn, once] of [...this.#listeners]) { if (once) this.removeEventListener("abort", fn); fn.call(this, event); }
    }
    static abort(reason) { const c = new AbortController(); c.abort(reason); return c.signal; }
    static timeout(ms) { const c = new AbortController(); setTimeout(() => c.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms); return c.signal; }
    get [Symbol.toStringTag]() { return "AbortSignal"; }
  }
  class AbortController {
    #signal = new AbortSignal();
    get signal() { return this.#signal; }
    abort(reason) { this.#signal._abort(reason); }
    get [Symbol.toStringTag]() { return "AbortController"; }
  }
  // A fetch Request: what `fetch(request)` and code that builds one reads.
  class Request {
    constructor(input, init = {}) {
      const from = input instanceof Request ? input : null;
      this.url = from ? from.url : new URL(String(input)).href;
      this.method = String(init.method ?? from?.method ?? "GET").toUpperCase();
      this.headers = new Headers(init.headers ?? from?.headers);
      this.signal = init.signal ?? from?.signal ?? new AbortController().signal;
      this.redirect = init.redirect ?? "follow";
      this._body = init.body ?? from?._body ?? null;
      if (this._body !== null && (this.method === "GET" || this.method === "HEAD")) throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    async text() { return this._body === null ? "" : typeof this._body === "string" ? this._body : core.decode(toBytes(this._body)); }
    async json() { return JSON.parse(await this.text()); }
    async arrayBuffer() { const b = toBytes(this._body ?? new Uint8Array(0)); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); }
    clone() { return new Request(this); }
  }
  return { AbortController, AbortSignal, Request };
})
