// The globals and Node.js modules a Lambda@Edge handler may use, on deno_core. Runs once per
// isolate before the function loads. Native work (hashes, compression, URL parsing, logging)
// goes through `op_edge_*` ops; everything here is plain JavaScript.
//
// The realm is sealed before any user code runs: `Deno`, `Deno.core`, its ops and every
// helper of ours live only in this closure. The script's value is the runtime's own handle
// (`internals` below), kept by Rust and never stored anywhere user code can reach.
((globalThis) => {
  "use strict";
  const core = Deno.core;
  const ops = core.ops;
  // The factory of one of the runtime's modules in node/*.js (see "Node modules made on first
  // use" below), compiled when first asked for.
  const makeNodeModule = (file) => {
    const [factory, thrown] = ops.op_edge_compile(ops.op_edge_node_module(file), `node:${file}`);
    if (factory === null) throw thrown;
    return factory;
  };

  // ---- util.format and console -------------------------------------------------------------
  // A string as util.inspect quotes it: single quotes unless it has some, then double, then
  // backticks; control characters escaped.
  const quote = (str) => {
    const q = !str.includes("'") ? "'" : !str.includes('"') ? '"' : !str.includes("`") ? "`" : "'";
    const body = str.replace(/[\\\n\t\r\b\f\v]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v" })[c]);
    return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  };
  const inspect = (v, depth = 0) => {
    if (typeof v === "string") return quote(v);
    if (v instanceof Error) return v.stack || `${v.name}: ${v.message}`;
    if (typeof v === "function") return `[Function: ${v.name || "anonymous"}]`;
    if (typeof v === "bigint") return `${v}n`;
    if (v === undefined || v === null || typeof v !== "object") return String(v);
    if (depth > 2) return Array.isArray(v) ? "[Array]" : "[Object]";
    if (v instanceof Uint8Array) return `<Buffer ${Array.from(v.slice(0, 50), (b) => b.toString(16).padStart(2, "0")).join(" ")}${v.length > 50 ? " ..." : ""}>`;
    if (Array.isArray(v)) return v.length ? `[ ${v.map((x) => inspect(x, depth + 1)).join(", ")} ]` : "[]";
    const body = Object.keys(v).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k)}: ${inspect(v[k], depth + 1)}`);
    return body.length ? `{ ${body.join(", ")} }` : "{}";
  };
  // util.format: strings as they are, other values inspected.
  const shown = (a) => (typeof a === "string" ? a : inspect(a));
  const format = (f, ...args) => {
    if (typeof f !== "string") return [f, ...args].map(shown).join(" ");
    if (args.length === 0) return f;
    let i = 0;
    let out = f.replace(/%[sdifjoO%]/g, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case "%s": return typeof a === "string" ? a : inspect(a, 1);
        case "%d": case "%i": return typeof a === "bigint" ? `${a}n` : String(m === "%i" ? parseInt(a) : Number(a));
        case "%f": return String(parseFloat(a));
        case "%j": try { return JSON.stringify(a); } catch { return "[Circular]"; }
        case "%o": return Array.isArray(a) ? `[ ${[...a.map((x) => inspect(x, 1)), `[length]: ${a.length}`].join(", ")} ]` : inspect(a, 1);
        default: return inspect(a, 1);
      }
    });
    for (; i < args.length; i++) out += " " + shown(args[i]);
    return out;
  };
  const log = (level) => (...args) => ops.op_edge_log(level, format(...args));
  globalThis.console = {
    debug: log(0), log: log(1), info: log(1), warn: log(2), error: log(3), trace: log(0),
  };

  // ---- timers ---------------------------------------------------------------------------------
  globalThis.setTimeout = (cb, ms, ...args) => core.createTimer(() => cb(...args), ms, undefined, false, true);
  globalThis.setInterval = (cb, ms, ...args) => core.createTimer(() => cb(...args), ms, undefined, true, true);
  globalThis.setImmediate = (cb, ...args) => core.createTimer(() => cb(...args), 1, undefined, false, true);
  globalThis.clearTimeout = globalThis.clearInterval = globalThis.clearImmediate = (t) => { if (t) core.cancelTimer(t); };

  // ---- text and base64 ------------------------------------------------------------------------
  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(s = "") { return core.encode(String(s)); }
  }
  class TextDecoder {
    constructor(label = "utf-8") {
      if (!/^utf-?8$/i.test(label)) throw new RangeError(`The "${label}" encoding is not supported`);
    }
    get encoding() { return "utf-8"; }
    decode(b) {
      if (b === undefined) return "";
      const u8 = b instanceof Uint8Array ? b : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
      return core.decode(u8);
    }
  }
  globalThis.TextEncoder = TextEncoder;
  globalThis.TextDecoder = TextDecoder;
  const latin1 = (s) => Uint8Array.from(String(s), (c) => c.charCodeAt(0) & 0xff);
  globalThis.btoa = (s) => {
    s = String(s);
    if (/[^\u0000-\u00ff]/.test(s)) throw new DOMException("Invalid character", "InvalidCharacterError");
    return ops.op_edge_base64_encode(latin1(s), false);
  };
  globalThis.atob = (s) => {
    const bytes = ops.op_edge_base64_decode(String(s).replace(/[\t\n\f\r ]/g, ""));
    let out = "";
    for (const b of bytes) out += String.fromCharCode(b);
    return out;
  };
  if (typeof globalThis.DOMException === "undefined") {
    globalThis.DOMException = class DOMException extends Error {
      constructor(message, name = "Error") { super(message); this.name = name; }
    };
  }

  // ---- Buffer ---------------------------------------------------------------------------------
  const normEnc = (e) => String(e || "utf8").toLowerCase().replace("-", "");
  class FastBuffer extends Uint8Array {
    static from(value, encOrOffset, length) {
      if (typeof value === "string") {
        const enc = normEnc(encOrOffset);
        let bytes;
        switch (enc) {
          case "utf8": bytes = core.encode(value); break;
          case "hex": bytes = new Uint8Array((value.match(/../g) || []).map((h) => parseInt(h, 16)).filter((n) => !Number.isNaN(n))); break;
          case "base64": case "base64url": bytes = ops.op_edge_base64_decode(value.replace(/[\s=]/g, "")); break;
          case "latin1": case "binary": case "ascii": bytes = latin1(value); break;
          case "ucs2": case "utf16le": {
            bytes = new Uint8Array(value.length * 2);
            for (let i = 0; i < value.length; i++) { const c = value.charCodeAt(i); bytes[2 * i] = c & 0xff; bytes[2 * i + 1] = c >> 8; }
            break;
          }
          default: throw new TypeError(`Unknown encoding: ${encOrOffset}`);
        }
        return FastBuffer.#wrap(bytes);
      }
      if (value instanceof ArrayBuffer) return new FastBuffer(value, encOrOffset || 0, length ?? value.byteLength - (encOrOffset || 0));
      if (ArrayBuffer.isView(value)) return FastBuffer.#wrap(new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice());
      if (Array.isArray(value)) return FastBuffer.#wrap(Uint8Array.from(value));
      if (value && value.type === "Buffer" && Array.isArray(value.data)) return FastBuffer.#wrap(Uint8Array.from(value.data));
      throw new TypeError("The first argument must be a string, Buffer, ArrayBuffer, Array, or array-like object.");
    }
    static #wrap(u8) { return new FastBuffer(u8.buffer, u8.byteOffset, u8.byteLength); }
    static alloc(n, fill = 0) { const b = new FastBuffer(n); if (fill) b.fill(typeof fill === "string" ? fill.charCodeAt(0) : fill); return b; }
    static allocUnsafe(n) { return new FastBuffer(n); }
    static isBuffer(b) { return b instanceof FastBuffer; }
    static isEncoding(e) { return typeof e === "string" && ["utf8", "hex", "base64", "base64url", "latin1", "binary", "ascii", "ucs2", "utf16le"].includes(normEnc(e)); }
    static byteLength(v, enc) { return typeof v === "string" ? Buffer.from(v, enc).length : v.byteLength; }
    static concat(list, total) {
      total ??= list.reduce((n, b) => n + b.length, 0);
      const out = Buffer.alloc(total);
      let off = 0;
      for (const b of list) { if (off >= total) break; out.set(b.subarray(0, total - off), off); off += b.length; }
      return out;
    }
    static compare(a, b) {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
    }
    toString(enc, start = 0, end = this.length) {
      const view = this.subarray(start, end);
      switch (normEnc(enc)) {
        case "utf8": return core.decode(new Uint8Array(view));
        case "hex": return Array.from(view, (b) => b.toString(16).padStart(2, "0")).join("");
        case "base64": return ops.op_edge_base64_encode(new Uint8Array(view), false);
        case "base64url": return ops.op_edge_base64_encode(new Uint8Array(view), true);
        case "latin1": case "binary": { let s = ""; for (const b of view) s += String.fromCharCode(b); return s; }
        case "ascii": { let s = ""; for (const b of view) s += String.fromCharCode(b & 0x7f); return s; }
        case "ucs2": case "utf16le": { let s = ""; for (let i = 0; i + 1 < view.length; i += 2) s += String.fromCharCode(view[i] | (view[i + 1] << 8)); return s; }
        default: throw new TypeError(`Unknown encoding: ${enc}`);
      }
    }
    #dv() { return new DataView(this.buffer, this.byteOffset, this.byteLength); }
    #at(offset, size) {
      if (offset === undefined) offset = 0;
      if (typeof offset !== "number") throw Object.assign(new TypeError(`The "offset" argument must be of type number. Received type ${typeof offset} (${inspect(offset)})`), { code: "ERR_INVALID_ARG_TYPE" });
      if (!Number.isInteger(offset) || offset < 0 || offset + size > this.length) {
        if (this.length - size < 0) throw Object.assign(new RangeError("Attempt to access memory outside buffer bounds"), { code: "ERR_BUFFER_OUT_OF_BOUNDS" });
        throw Object.assign(new RangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${this.length - size}. Received ${offset}`), { code: "ERR_OUT_OF_RANGE" });
      }
      return offset;
    }
    #checkInt(value, min, max, size) {
      if (typeof value !== "number" || value < min || value > max || Number.isNaN(value)) {
        const range = size <= 4 ? `>= ${min} and <= ${max}` : `>= ${min} and <= ${max}`;
        throw Object.assign(new RangeError(`The value of "value" is out of range. It must be ${range}. Received ${String(value).replace(/\B(?=(\d{3})+(?!\d))/g, "_")}`), { code: "ERR_OUT_OF_RANGE" });
      }
    }
    fill(value, offset = 0, end = this.length, enc) {
      if (typeof offset === "string") { enc = offset; offset = 0; end = this.length; }
      if (typeof value === "string") {
        const bytes = Buffer.from(value, enc);
        if (bytes.length === 0) return Uint8Array.prototype.fill.call(this, 0, offset, end);
        for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
        return this;
      }
      if (value instanceof Uint8Array) { for (let i = offset, j = 0; i < end; i++, j = (j + 1) % value.length) this[i] = value[j]; return this; }
      return Uint8Array.prototype.fill.call(this, value, offset, end);
    }
    indexOf(value, byteOffset = 0, enc) {
      if (typeof value === "number") return Uint8Array.prototype.indexOf.call(this, value & 0xff, byteOffset);
      if (typeof byteOffset === "string") { enc = byteOffset; byteOffset = 0; }
      const needle = typeof value === "string" ? Buffer.from(value, enc) : value;
      let start = byteOffset < 0 ? Math.max(this.length + byteOffset, 0) : byteOffset;
      if (needle.length === 0) return Math.min(start, this.length);
      outer: for (let i = start; i <= this.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    lastIndexOf(value, byteOffset = this.length, enc) {
      if (typeof value === "number") return Uint8Array.prototype.lastIndexOf.call(this, value & 0xff, byteOffset);
      if (typeof byteOffset === "string") { enc = byteOffset; byteOffset = this.length; }
      const needle = typeof value === "string" ? Buffer.from(value, enc) : value;
      const from = Math.min(byteOffset < 0 ? this.length + byteOffset : byteOffset, this.length - needle.length);
      outer: for (let i = from; i >= 0; i--) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    includes(value, byteOffset, enc) { return this.indexOf(value, byteOffset, enc) !== -1; }
    copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
      const src = this.subarray(sourceStart, Math.min(sourceEnd, sourceStart + target.length - targetStart));
      target.set(src, targetStart);
      return src.length;
    }
    #swap(size) {
      if (this.length % size !== 0) throw Object.assign(new RangeError(`Buffer size must be a multiple of ${size * 8}-bits`), { code: "ERR_INVALID_BUFFER_SIZE" });
      for (let i = 0; i < this.length; i += size) {
        for (let a = i, b = i + size - 1; a < b; a++, b--) { const t = this[a]; this[a] = this[b]; this[b] = t; }
      }
      return this;
    }
    swap16() { return this.#swap(2); }
    swap32() { return this.#swap(4); }
    swap64() { return this.#swap(8); }
    readUIntBE(o, n) { let v = 0; o = this.#at(o, n); for (let i = 0; i < n; i++) v = v * 256 + this[o + i]; return v; }
    readUIntLE(o, n) { let v = 0; o = this.#at(o, n); for (let i = n - 1; i >= 0; i--) v = v * 256 + this[o + i]; return v; }
    readIntBE(o, n) { const v = this.readUIntBE(o, n); return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v; }
    readIntLE(o, n) { const v = this.readUIntLE(o, n); return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v; }
    // The fixed-size reads and writes (readUInt16BE, writeDoubleLE, …), made from one table.
    static _numeric(name, size, type, min, max) {
      const get = `get${type}`, set = `set${type}`;
      for (const [suffix, le] of size === 1 ? [["", false]] : [["BE", false], ["LE", true]]) {
        Object.defineProperty(FastBuffer.prototype, `read${name}${suffix}`, { value: function (o) { return this.#dv()[get](this.#at(o, size), le); }, writable: true, configurable: true });
        Object.defineProperty(FastBuffer.prototype, `write${name}${suffix}`, {
          value: function (v, o) {
            if (min !== undefined) this.#checkInt(v, min, max, size);
            o = this.#at(o, size);
            this.#dv()[set](o, v, le);
            return o + size;
          },
          writable: true, configurable: true,
        });
      }
    }
    toLocaleString(enc, s, e) { return this.toString(enc, s, e); }
    toJSON() { return { type: "Buffer", data: Array.from(this) }; }
    equals(o) { return Buffer.compare(this, o) === 0; }
    compare(o) { return Buffer.compare(this, o); }
    slice(s, e) { return this.subarray(s, e); }
    subarray(s, e) { const u = Uint8Array.prototype.subarray.call(this, s, e); return new FastBuffer(u.buffer, u.byteOffset, u.byteLength); }
    write(str, offset = 0, enc = "utf8") { const b = Buffer.from(str, enc); this.set(b.subarray(0, this.length - offset), offset); return Math.min(b.length, this.length - offset); }
  }
  for (const [name, size, type, min, max] of [
    ["UInt8", 1, "Uint8", 0, 255], ["Int8", 1, "Int8", -128, 127], ["UInt16", 2, "Uint16", 0, 65535], ["Int16", 2, "Int16", -32768, 32767],
    ["UInt32", 4, "Uint32", 0, 4294967295], ["Int32", 4, "Int32", -2147483648, 2147483647], ["Float", 4, "Float32"], ["Double", 8, "Float64"],
    ["BigUInt64", 8, "BigUint64"], ["BigInt64", 8, "BigInt64"],
  ]) FastBuffer._numeric(name, size, type, min, max);
  delete FastBuffer._numeric;
  // Node's legacy constructor, which every Lambda Node.js runtime still accepts (with warning
  // DEP0005): `Buffer(x)` and `new Buffer(x)` are `Buffer.from(x, …)`, or for a number
  // `Buffer.alloc(x)`. Buffers are FastBuffers; `Buffer` shares their prototype and statics.
  let warnedLegacyBuffer = false;
  function Buffer(arg, encodingOrOffset, length) {
    // As Node, warn once, and only for code outside node_modules.
    if (!warnedLegacyBuffer && !/\/node_modules\//.test(new Error().stack.split("\n").slice(2, 4).join("\n"))) {
      warnedLegacyBuffer = true;
      console.warn("(node) [DEP0005] DeprecationWarning: Buffer() is deprecated due to security and usability issues. Please use the Buffer.alloc(), Buffer.allocUnsafe(), or Buffer.from() methods instead.");
    }
    if (typeof arg === "number") {
      if (typeof encodingOrOffset === "string") {
        throw new TypeError(`The "string" argument must be of type string. Received type number (${arg})`);
      }
      return FastBuffer.alloc(arg);
    }
    return FastBuffer.from(arg, encodingOrOffset, length);
  }
  // Node's Buffer statics are plain enumerable properties (safer-buffer and others copy them
  // with for…in).
  for (const key of Object.getOwnPropertyNames(FastBuffer)) {
    if (key !== "length" && key !== "name" && key !== "prototype") {
      Object.defineProperty(Buffer, key, { ...Object.getOwnPropertyDescriptor(FastBuffer, key), enumerable: true });
    }
  }
  // Typed-array methods that make a new array (subarray, map, filter…) make a FastBuffer, as
  // in Node, not a call to the legacy constructor.
  Object.defineProperty(Buffer, Symbol.species, { get() { return FastBuffer; }, enumerable: false, configurable: true });
  Buffer.poolSize = 8192;
  Buffer.of = (...items) => FastBuffer.from(items);
  for (const name of Object.getOwnPropertyNames(FastBuffer.prototype)) {
    // Node's lower-case aliases: readUint8 for readUInt8, and so on.
    if (/UInt/.test(name)) Object.defineProperty(FastBuffer.prototype, name.replace("UInt", "Uint"), Object.getOwnPropertyDescriptor(FastBuffer.prototype, name));
  }
  Buffer.prototype = FastBuffer.prototype;
  Object.defineProperty(FastBuffer.prototype, "constructor", { value: Buffer, writable: true, configurable: true });
  Object.setPrototypeOf(Buffer, Uint8Array);
  globalThis.Buffer = Buffer;
  const toBytes = (data, enc) => typeof data === "string" ? Buffer.from(data, enc) : data instanceof Uint8Array ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

  // ---- querystring ------------------------------------------------------------------------------
  // Node's querystring leaves A–Z a–z 0–9 - _ . ! ~ * ' ( ) unescaped, as encodeURIComponent
  // does; a malformed escape is decoded byte by byte (what is not %XX stays as it is).
  const qsEscape = (s) => encodeURIComponent(s);
  const qsUnescape = (s) => {
    try { return decodeURIComponent(s); } catch {
      const bytes = [];
      for (let i = 0; i < s.length; i++) {
        const hex = s[i] === "%" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3));
        if (hex) { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
        else for (const b of core.encode(s[i])) bytes.push(b);
      }
      return core.decode(new Uint8Array(bytes));
    }
  };
  const querystring = {
    escape: qsEscape,
    unescape: qsUnescape,
    parse(str, sep = "&", eq = "=") {
      const out = Object.create(null);
      if (typeof str !== "string" || str.length === 0) return out;
      for (const part of str.split(sep)) {
        if (!part) continue;
        const i = part.indexOf(eq);
        const k = qsUnescape((i >= 0 ? part.slice(0, i) : part).replace(/\+/g, " "));
        const v = i >= 0 ? qsUnescape(part.slice(i + eq.length).replace(/\+/g, " ")) : "";
        if (k in out) out[k] = [].concat(out[k], v); else out[k] = v;
      }
      return out;
    },
    stringify(obj, sep = "&", eq = "=") {
      if (!obj || typeof obj !== "object") return "";
      const enc = (v) => qsEscape(typeof v === "string" ? v : typeof v === "number" && isFinite(v) ? String(v) : typeof v === "boolean" || typeof v === "bigint" ? String(v) : "");
      return Object.keys(obj).map((k) => Array.isArray(obj[k]) ? obj[k].map((v) => qsEscape(k) + eq + enc(v)).join(sep) : qsEscape(k) + eq + enc(obj[k])).filter(Boolean).join(sep);
    },
  };
  querystring.decode = querystring.parse;
  querystring.encode = querystring.stringify;

  // ---- URL and URLSearchParams ----------------------------------------------------------------
  class URLSearchParams {
    #list = [];
    #url = null;
    constructor(init = "") {
      if (typeof init === "string") this.#parse(init);
      else if (init && typeof init[Symbol.iterator] === "function") for (const [k, v] of init) this.#list.push([String(k), String(v)]);
      else if (init && typeof init === "object") for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
    }
    #parse(s) {
      this.#list = [];
      for (const part of s.replace(/^\?/, "").split("&")) {
        if (!part) continue;
        const i = part.indexOf("=");
        const dec = (x) => qsUnescape(x.replace(/\+/g, " "));
        this.#list.push(i >= 0 ? [dec(part.slice(0, i)), dec(part.slice(i + 1))] : [dec(part), ""]);
      }
    }
    static _attach(p, url) { p.#url = url; return p; }
    static _reset(p, s) { p.#parse(s); }
    #update() { if (this.#url) this.#url._setSearch(this.toString()); }
    append(k, v) { this.#list.push([String(k), String(v)]); this.#update(); }
    delete(k) { this.#list = this.#list.filter(([n]) => n !== k); this.#update(); }
    get(k) { const e = this.#list.find(([n]) => n === k); return e ? e[1] : null; }
    getAll(k) { return this.#list.filter(([n]) => n === k).map(([, v]) => v); }
    has(k) { return this.#list.some(([n]) => n === k); }
    set(k, v) {
      const i = this.#list.findIndex(([n]) => n === k);
      if (i < 0) this.#list.push([String(k), String(v)]);
      else { this.#list[i][1] = String(v); this.#list = this.#list.filter(([n], j) => n !== k || j === i); }
      this.#update();
    }
    sort() { this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this.#update(); }
    forEach(f, self) { for (const [k, v] of this.#list) f.call(self, v, k, this); }
    keys() { return this.#list.map(([k]) => k)[Symbol.iterator](); }
    values() { return this.#list.map(([, v]) => v)[Symbol.iterator](); }
    entries() { return this.#list.map(([k, v]) => [k, v])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    get size() { return this.#list.length; }
    toString() {
      const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+").replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
      return this.#list.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&");
    }
  }
  class URL {
    #p;
    #params;
    constructor(input, base) {
      const r = ops.op_edge_url_parse(String(input), base === undefined ? undefined : String(base));
      if (typeof r === "string") throw Object.assign(new TypeError("Invalid URL"), { code: "ERR_INVALID_URL", input: String(input) });
      this.#p = r;
      this.#params = URLSearchParams._attach(new URLSearchParams(r.search), this);
    }
    static canParse(i, b) { try { new URL(i, b); return true; } catch { return false; } }
    #set(part, value) {
      const r = ops.op_edge_url_set(this.#p.href, part, String(value));
      if (typeof r !== "string") { this.#p = r; URLSearchParams._reset(this.#params, r.search); }
    }
    _setSearch(s) { const r = ops.op_edge_url_set(this.#p.href, "search", s); if (typeof r !== "string") this.#p = r; }
    get href() { return this.#p.href; } set href(v) { const r = ops.op_edge_url_parse(String(v), undefined); if (typeof r === "string") throw new TypeError(`Invalid URL: ${r}`); this.#p = r; URLSearchParams._reset(this.#params, r.search); }
    get origin() { return this.#p.origin; }
    get protocol() { return this.#p.protocol; } set protocol(v) { this.#set("protocol", v); }
    get username() { return this.#p.username; } set username(v) { this.#set("username", v); }
    get password() { return this.#p.password; } set password(v) { this.#set("password", v); }
    get host() { return this.#p.host; } set host(v) { this.#set("host", v); }
    get hostname() { return this.#p.hostname; } set hostname(v) { this.#set("hostname", v); }
    get port() { return this.#p.port; } set port(v) { this.#set("port", v); }
    get pathname() { return this.#p.pathname; } set pathname(v) { this.#set("pathname", v); }
    get search() { return this.#p.search; } set search(v) { this.#set("search", v); }
    get hash() { return this.#p.hash; } set hash(v) { this.#set("hash", v); }
    get searchParams() { return this.#params; }
    toString() { return this.#p.href; }
    toJSON() { return this.#p.href; }
  }
  globalThis.URL = URL;
  globalThis.URLSearchParams = URLSearchParams;
  const url = {
    URL,
    URLSearchParams,
    parse(str, parseQuery = false) {
      const m = /^(?:([a-z][a-z0-9+.-]*:))?(?:\/\/(?:([^@/?#]*)@)?([^/?#:]*)(?::(\d+))?)?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(String(str)) || [];
      const [, protocol = null, auth = null, hostname = null, port = null, pathname = null, search = null, hash = null] = m;
      const host = hostname ? hostname.toLowerCase() + (port ? ":" + port : "") : null;
      const query = search ? search.slice(1) : null;
      return {
        protocol: protocol ? protocol.toLowerCase() : null, slashes: /^([a-z][a-z0-9+.-]*:)?\/\//i.test(String(str)) || null, auth, host, port,
        hostname: hostname ? hostname.toLowerCase() : null, hash, search, query: parseQuery ? querystring.parse(query || "") : query,
        pathname: pathname || (host ? "/" : null), path: (pathname || (host ? "/" : "")) + (search || ""),
        // As Node, href is the parts put back together (the host lowercased).
        href: `${protocol ? protocol.toLowerCase() : ""}${host !== null || /^([a-z][a-z0-9+.-]*:)?\/\//i.test(String(str)) ? "//" : ""}${auth ? auth + "@" : ""}${host ?? ""}${pathname || (host ? "/" : "")}${search ?? ""}${hash ?? ""}`,
      };
    },
    format(o) {
      if (o instanceof URL) return o.href;
      if (typeof o === "string") return o;
      const proto = o.protocol ? (o.protocol.endsWith(":") ? o.protocol : o.protocol + ":") : "";
      const host = o.host || (o.hostname ? o.hostname + (o.port ? ":" + o.port : "") : "");
      const search = o.search || (o.query && typeof o.query === "object" ? (Object.keys(o.query).length ? "?" + querystring.stringify(o.query) : "") : o.query ? "?" + o.query : "");
      return `${proto}${host || o.slashes ? "//" : ""}${o.auth ? o.auth + "@" : ""}${host}${o.pathname || ""}${search}${o.hash || ""}`;
    },
  };

  // ---- crypto ----------------------------------------------------------------------------------
  const digestOut = (bytes, enc) => { const b = Buffer.from(bytes); return enc ? b.toString(enc) : b; };
  class Hash {
    #alg; #parts = []; #done = false;
    #key;
    constructor(alg, key) {
      this.#alg = String(alg).toLowerCase().replace(/^rsa-/, "");
      if (!["md5", "sha1", "sha256", "sha384", "sha512"].includes(this.#alg)) {
        if (key) throw Object.assign(new TypeError(`Invalid digest: ${alg}`), { code: "ERR_CRYPTO_INVALID_DIGEST" });
        throw new Error("Digest method not supported");
      }
      this.#key = key;
    }
    #run(data) { return this.#key ? ops.op_edge_hmac(this.#alg, this.#key, data) : ops.op_edge_digest(this.#alg, data); }
    update(data, enc) { if (this.#done) throw new Error("Digest already called"); this.#parts.push(toBytes(data, enc)); return this; }
    digest(enc) {
      if (this.#done) throw Object.assign(new Error("Digest already called"), { code: "ERR_CRYPTO_HASH_FINALIZED" });
      this.#done = true;
      return digestOut(this.#run(Buffer.concat(this.#parts)), enc);
    }
  }
  // Signatures (RS256/384/512, ES256/384): a key is a PEM string or Buffer, or
  // `{ key, dsaEncoding }` where `dsaEncoding: "ieee-p1363"` gives ECDSA's raw r||s (JWT's form).
  // KeyObject, createPublicKey, createPrivateKey and createSecretKey live in node/keys.js,
  // made on first use; until then no KeyObject exists.
  let keys = null;
  const loadKeys = () => (keys ??= makeNodeModule("keys")({ Buffer, inspect, ops, toBytes }));
  const isKeyObject = (k) => keys !== null && k instanceof keys.KeyObject;
  const keyOf = (key) => {
    if (isKeyObject(key)) return [key._pem, false];
    const k = key !== null && typeof key === "object" && !ArrayBuffer.isView(key) ? key : { key };
    if (isKeyObject(k.key)) return [k.key._pem, k.dsaEncoding === "ieee-p1363"];
    if (k.format === "jwk" || k.format === "der") return [loadKeys().createPublicKey(k).export(), k.dsaEncoding === "ieee-p1363"];
    const pem = typeof k.key === "string" ? k.key : ArrayBuffer.isView(k.key) ? Buffer.from(k.key).toString() : null;
    if (pem === null) throw new TypeError("The \"key\" argument must be a PEM string or Buffer");
    return [pem, k.dsaEncoding === "ieee-p1363"];
  };
  class Sign {
    #alg; #parts = [];
    constructor(alg) { this.#alg = String(alg); }
    update(data, enc) { this.#parts.push(toBytes(data, enc)); return this; }
    sign(key, enc) {
      const [pem, ieee] = keyOf(key);
      return digestOut(ops.op_edge_sign(this.#alg, pem, Buffer.concat(this.#parts), ieee), enc);
    }
  }
  class Verify {
    #alg; #parts = [];
    constructor(alg) { this.#alg = String(alg); }
    update(data, enc) { this.#parts.push(toBytes(data, enc)); return this; }
    verify(key, sig, enc) {
      const [pem, ieee] = keyOf(key);
      return ops.op_edge_verify(this.#alg, pem, Buffer.concat(this.#parts), toBytes(sig, enc), ieee);
    }
  }
  const crypto = {
    createPublicKey: (key) => loadKeys().createPublicKey(key),
    createPrivateKey: (key) => loadKeys().createPrivateKey(key),
    createSecretKey: (key, encoding) => loadKeys().createSecretKey(key, encoding),
    get KeyObject() { return loadKeys().KeyObject; },
    createSign: (alg) => new Sign(alg),
    createVerify: (alg) => new Verify(alg),
    sign: (alg, data, key) => new Sign(alg ?? "sha256").update(data).sign(key),
    verify: (alg, data, key, sig) => new Verify(alg ?? "sha256").update(data).verify(key, sig),
    createHash: (alg) => new Hash(alg, undefined),
    createHmac: (alg, key) => new Hash(alg, isKeyObject(key) ? (key.type === "secret" ? key._secret : (() => { throw Object.assign(new TypeError(`Invalid key object type ${key.type}, expected secret.`), { code: "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE" }); })()) : toBytes(key)),
    randomBytes: (n) => Buffer.from(ops.op_edge_random_bytes(n)),
    randomUUID: () => {
      const b = ops.op_edge_random_bytes(16);
      b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
      const h = Buffer.from(b).toString("hex");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    timingSafeEqual: (a, b) => {
      if (a.byteLength !== b.byteLength) throw new RangeError("Input buffers must have the same byte length");
      let d = 0;
      for (let i = 0; i < a.byteLength; i++) d |= a[i] ^ b[i];
      return d === 0;
    },
    getRandomValues: (arr) => { arr.set(ops.op_edge_random_bytes(arr.byteLength)); return arr; },
  };
  // Web Crypto (node/webcrypto.js) is made when first used.
  let webcrypto = null;
  const loadWebcrypto = () => (webcrypto ??= makeNodeModule("webcrypto")({ Buffer, ops, keys: loadKeys(), createHmac: crypto.createHmac, timingSafeEqual: crypto.timingSafeEqual }));
  const webCrypto = {
    getRandomValues: crypto.getRandomValues,
    randomUUID: crypto.randomUUID,
    get subtle() { return loadWebcrypto().subtle; },
  };
  Object.defineProperty(crypto, "webcrypto", { get: () => webCrypto, enumerable: true });
  Object.defineProperty(crypto, "subtle", { get: () => loadWebcrypto().subtle, enumerable: true });
  globalThis.crypto = webCrypto;
  Object.defineProperty(globalThis, "CryptoKey", { get: () => loadWebcrypto().CryptoKey, configurable: true, enumerable: false });

  // ---- fetch (origin stages only) ----------------------------------------------------------------
  class Headers {
    #m = new Map();
    constructor(init) {
      if (init instanceof Headers) init.forEach((v, k) => this.append(k, v));
      else if (Array.isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init) for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(k, v) { k = String(k).toLowerCase(); this.#m.set(k, this.#m.has(k) ? this.#m.get(k) + ", " + v : String(v)); }
    set(k, v) { this.#m.set(String(k).toLowerCase(), String(v)); }
    get(k) { return this.#m.get(String(k).toLowerCase()) ?? null; }
    has(k) { return this.#m.has(String(k).toLowerCase()); }
    delete(k) { this.#m.delete(String(k).toLowerCase()); }
    forEach(f) { for (const [k, v] of this.#m) f(v, k, this); }
    entries() { return this.#m.entries(); }
    [Symbol.iterator]() { return this.#m.entries(); }
  }
  class Response {
    #body;
    constructor(body, init = {}) { this.#body = body ?? new Uint8Array(0); this.status = init.status ?? 200; this.statusText = init.statusText ?? ""; this.headers = new Headers(init.headers); this.url = init.url ?? ""; }
    get ok() { return this.status >= 200 && this.status < 300; }
    async arrayBuffer() { const b = toBytes(this.#body); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); }
    async text() { return typeof this.#body === "string" ? this.#body : core.decode(toBytes(this.#body)); }
    async json() { return JSON.parse(await this.text()); }
  }
  globalThis.Headers = Headers;
  globalThis.Response = Response;
  // AbortController, AbortSignal and Request (node/abort.js) are made when first touched: lazy
  // accessors on the global, as Node defines its web globals.
  let web = null;
  const loadWeb = () => (web ??= makeNodeModule("abort")({ Headers, core, toBytes }));
  for (const name of ["AbortController", "AbortSignal", "Request"]) {
    Object.defineProperty(globalThis, name, {
      get: () => loadWeb()[name],
      set(value) { Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false }); },
      configurable: true, enumerable: false,
    });
  }
  globalThis.fetch = async (input, init = {}) => {
    if (web !== null && input instanceof web.Request) init = { method: input.method, headers: input.headers, body: input._body, signal: input.signal, ...init };
    const target = new URL(input instanceof URL ? input.href : String(input.url ?? input));
    init.signal?.throwIfAborted();
    const headers = [];
    new Headers(init.headers).forEach((v, k) => headers.push([k, v]));
    const body = init.body === undefined || init.body === null ? null : toBytes(init.body);
    const r = await ops.op_edge_fetch(target.href, String(init.method || "GET").toUpperCase(), headers, body);
    return new Response(r.body, { status: r.status, statusText: r.statusText, headers: r.headers, url: target.href });
  };

  // ---- require --------------------------------------------------------------------------------
  const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
  const deepEqual = (a, b) => {
    if (Object.is(a, b)) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || tag(a) !== tag(b)) return false;
    if (a instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp) return String(a) === String(b);
    if (a instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && deepEqual(v, b.get(k)));
    if (a instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
    if (ArrayBuffer.isView(a)) return a.length === b.length && Array.prototype.every.call(a, (x, i) => Object.is(x, b[i]));
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  };
  const util = {
    format, inspect,
    promisify: (f) => (...a) => new Promise((res, rej) => f(...a, (e, v) => (e ? rej(e) : res(v)))),
    callbackify: (f) => (...a) => { const cb = a.pop(); f(...a).then((v) => cb(null, v), (e) => cb(e)); },
    inherits: (ctor, superCtor) => { Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true }); Object.setPrototypeOf(ctor.prototype, superCtor.prototype); },
    deprecate: (f, msg) => { let warned = false; return function (...a) { if (!warned) { warned = true; console.warn(`(node) DeprecationWarning: ${msg}`); } return f.apply(this, a); }; },
    isDeepStrictEqual: deepEqual,
    TextEncoder, TextDecoder,
    types: {
      isDate: (v) => v instanceof Date, isRegExp: (v) => v instanceof RegExp, isPromise: (v) => v instanceof Promise,
      isMap: (v) => v instanceof Map, isSet: (v) => v instanceof Set, isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
      isUint8Array: (v) => v instanceof Uint8Array, isArrayBuffer: (v) => v instanceof ArrayBuffer, isAnyArrayBuffer: (v) => v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer),
      isAsyncFunction: (v) => typeof v === "function" && tag(v) === "AsyncFunction", isGeneratorFunction: (v) => typeof v === "function" && /^(Async)?GeneratorFunction$/.test(tag(v)),
      isNativeError: (v) => v instanceof Error, isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean,
    },
    isArray: Array.isArray,
  };
  // ---- events: Node's EventEmitter --------------------------------------------------------
  // A function constructor with its listeners in `_events`, created on first use, as Node's:
  // code written for Node inherits it with util.inherits (often without calling it) and
  // reads `_events`.
  function EventEmitter(opts) { EventEmitter.init.call(this, opts); }
  EventEmitter.init = function init() {
    if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    }
    this._maxListeners = this._maxListeners || undefined;
  };
  const eventsOf = (target) => {
    if (target._events === undefined) { target._events = Object.create(null); target._eventsCount = 0; }
    return target._events;
  };
  function addListener(target, name, listener, prepend) {
    if (typeof listener !== "function") {
      const e = new TypeError(`The "listener" argument must be of type function. Received ${listener === null || listener === undefined ? String(listener) : `type ${typeof listener} (${String(listener)})`}`);
      e.code = "ERR_INVALID_ARG_TYPE";
      throw e;
    }
    const events = eventsOf(target);
    if (events.newListener !== undefined) target.emit("newListener", name, listener.listener ?? listener);
    const existing = events[name];
    if (existing === undefined) { events[name] = listener; target._eventsCount++; }
    else if (typeof existing === "function") events[name] = prepend ? [listener, existing] : [existing, listener];
    else if (prepend) existing.unshift(listener); else existing.push(listener);
    return target;
  }
  function onceWrapper(target, name, listener) {
    const state = { fired: false, target, name, listener };
    const wrapped = function (...args) {
      if (state.fired) return undefined;
      state.fired = true;
      target.removeListener(name, wrapped);
      return listener.apply(target, args);
    };
    wrapped.listener = listener;
    return wrapped;
  }
  Object.assign(EventEmitter.prototype, {
    _events: undefined,
    _eventsCount: 0,
    _maxListeners: undefined,
    on(name, listener) { return addListener(this, name, listener, false); },
    prependListener(name, listener) { return addListener(this, name, listener, true); },
    once(name, listener) { if (typeof listener !== "function") return addListener(this, name, listener, false); return addListener(this, name, onceWrapper(this, name, listener), false); },
    prependOnceListener(name, listener) { if (typeof listener !== "function") return addListener(this, name, listener, true); return addListener(this, name, onceWrapper(this, name, listener), true); },
    removeListener(name, listener) {
      const events = this._events;
      if (events === undefined) return this;
      const list = events[name];
      if (list === undefined) return this;
      if (list === listener || list.listener === listener) {
        if (--this._eventsCount === 0) this._events = Object.create(null); else delete events[name];
        if (events.removeListener !== undefined) this.emit("removeListener", name, list.listener || listener);
      } else if (typeof list !== "function") {
        let i = list.length - 1;
        for (; i >= 0; i--) if (list[i] === listener || list[i].listener === listener) break;
        if (i < 0) return this;
        const [removed] = list.splice(i, 1);
        if (list.length === 1) events[name] = list[0];
        if (events.removeListener !== undefined) this.emit("removeListener", name, removed.listener || listener);
      }
      return this;
    },
    removeAllListeners(name) {
      if (this._events === undefined) return this;
      if (name === undefined) { this._events = Object.create(null); this._eventsCount = 0; }
      else if (this._events[name] !== undefined) { if (--this._eventsCount === 0) this._events = Object.create(null); else delete this._events[name]; }
      return this;
    },
    emit(name, ...args) {
      const events = this._events;
      const handler = events === undefined ? undefined : events[name];
      if (handler === undefined) {
        if (name === "error") {
          const err = args[0];
          if (err instanceof Error) throw err;
          const e = new Error(`Unhandled error. (${inspect(err)})`);
          e.code = "ERR_UNHANDLED_ERROR";
          e.context = err;
          throw e;
        }
        return false;
      }
      if (typeof handler === "function") handler.apply(this, args);
      else for (const l of [...handler]) l.apply(this, args);
      return true;
    },
    listeners(name) { const h = this._events?.[name]; return h === undefined ? [] : typeof h === "function" ? [h.listener || h] : h.map((l) => l.listener || l); },
    rawListeners(name) { const h = this._events?.[name]; return h === undefined ? [] : typeof h === "function" ? [h] : [...h]; },
    listenerCount(name) { const h = this._events?.[name]; return h === undefined ? 0 : typeof h === "function" ? 1 : h.length; },
    eventNames() { return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : []; },
    setMaxListeners(n) { this._maxListeners = n; return this; },
    getMaxListeners() { return this._maxListeners === undefined ? EventEmitter.defaultMaxListeners : this._maxListeners; },
  });
  EventEmitter.prototype.addListener = EventEmitter.prototype.on;
  EventEmitter.prototype.off = EventEmitter.prototype.removeListener;
  EventEmitter.defaultMaxListeners = 10;
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.once = (emitter, name) => new Promise((resolve, reject) => {
    const onError = (e) => { emitter.off(name, onEvent); reject(e); };
    const onEvent = (...args) => { if (name !== "error") emitter.off("error", onError); resolve(args); };
    emitter.once(name, onEvent);
    if (name !== "error") emitter.once("error", onError);
  });
  EventEmitter.listenerCount = (emitter, name) => emitter.listenerCount(name);

  // ---- path (POSIX, as Node's `path` on Linux; a function's working directory is Lambda's
  // /var/task) --------------------------------------------------------------------------------
  const path = (() => {
    const check = (p, name = "path") => {
      if (typeof p !== "string") {
        const got = p === null || p === undefined ? String(p) : typeof p === "object" ? "an instance of " + (p.constructor?.name ?? "Object") : `type ${typeof p} (${String(p)})`;
        const e = new TypeError(`The "${name}" argument must be of type string. Received ${got}`);
        e.code = "ERR_INVALID_ARG_TYPE";
        throw e;
      }
    };
    const segments = (p, aboveRoot) => {
      const out = [];
      for (const s of p.split("/")) {
        if (s === "" || s === ".") continue;
        if (s === "..") {
          if (out.length && out[out.length - 1] !== "..") out.pop();
          else if (aboveRoot) out.push("..");
        } else out.push(s);
      }
      return out;
    };
    const normalize = (p) => {
      check(p);
      if (p === "") return ".";
      const abs = p[0] === "/";
      let r = segments(p, !abs).join("/");
      if (r === "" && !abs) r = ".";
      if (r !== "" && p[p.length - 1] === "/") r += "/";
      return abs ? "/" + r : r;
    };
    const join = (...parts) => {
      parts.forEach((p) => check(p));
      const joined = parts.filter((p) => p.length > 0).join("/");
      return joined === "" ? "." : normalize(joined);
    };
    const cwd = "/var/task";
    const resolve = (...parts) => {
      let r = "";
      for (let i = parts.length - 1; i >= -1 && r[0] !== "/"; i--) {
        const p = i >= 0 ? parts[i] : cwd;
        check(p, `paths[${i}]`);
        if (p.length) r = r ? p + "/" + r : p;
      }
      return "/" + segments(r, false).join("/");
    };
    const isAbsolute = (p) => { check(p); return p.length > 0 && p[0] === "/"; };
    const relative = (from, to) => {
      check(from, "from"); check(to, "to");
      if (from === to) return "";
      const f = segments(resolve(from), false), t = segments(resolve(to), false);
      let i = 0;
      while (i < f.length && i < t.length && f[i] === t[i]) i++;
      return [...f.slice(i).map(() => ".."), ...t.slice(i)].join("/");
    };
    const dirname = (p) => {
      check(p);
      if (p.length === 0) return ".";
      const root = p[0] === "/";
      let end = -1, slash = true;
      for (let i = p.length - 1; i >= 1; i--) {
        if (p[i] === "/") { if (!slash) { end = i; break; } } else slash = false;
      }
      if (end === -1) return root ? "/" : ".";
      if (root && end === 1) return "//";
      return p.slice(0, end);
    };
    const trimmed = (p) => { let e = p.length; while (e > 1 && p[e - 1] === "/") e--; return p.slice(0, e); };
    const basename = (p, ext) => {
      check(p);
      if (ext !== undefined) check(ext, "ext");
      const t = trimmed(p);
      let base = t === "/" ? "" : t.slice(t.lastIndexOf("/") + 1);
      if (ext !== undefined && ext !== base && base.endsWith(ext)) base = base.slice(0, base.length - ext.length);
      return base;
    };
    const extname = (p) => {
      check(p);
      const base = basename(p);
      const dot = base.lastIndexOf(".");
      return dot <= 0 || base === ".." ? "" : base.slice(dot);
    };
    const parse = (p) => {
      check(p);
      const root = p[0] === "/" ? "/" : "";
      const t = trimmed(p);
      const base = t === "/" ? "" : t.slice(t.lastIndexOf("/") + 1);
      const cut = t.length - base.length - 1;
      const dir = cut > 0 ? t.slice(0, cut) : root;
      // Node's one quirk here: right under the root, ".." parses as name "." and ext ".".
      const ext = root && dir === "/" && base === ".." ? "." : extname(base);
      return { root, dir, base, ext, name: ext ? base.slice(0, base.length - ext.length) : base };
    };
    const format = (o) => {
      if (o === null || typeof o !== "object") {
        const e = new TypeError(`The "pathObject" argument must be of type object. Received ${o === null ? "null" : `type ${typeof o} (${String(o)})`}`);
        e.code = "ERR_INVALID_ARG_TYPE";
        throw e;
      }
      const dir = o.dir || o.root;
      const ext = o.ext ? (o.ext[0] === "." ? o.ext : "." + o.ext) : "";
      const base = o.base || (o.name || "") + ext;
      return !dir ? base : dir === o.root ? dir + base : dir + "/" + base;
    };
    const posix = { sep: "/", delimiter: ":", normalize, join, resolve, isAbsolute, relative, dirname, basename, extname, parse, format, toNamespacedPath: (p) => p };
    posix.posix = posix;
    return posix;
  })();

  // ---- structuredClone (the HTML structured clone: cycles, Date, RegExp, Map, Set, buffers
  // and typed arrays, errors; functions and symbols refuse with DataCloneError) ---------------
  globalThis.structuredClone = function structuredClone(value) {
    const seen = new Map();
    const refuse = (what) => { throw new DOMException(`${what} could not be cloned.`, "DataCloneError"); };
    const clone = (v) => {
      if (v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol")) return v;
      if (typeof v === "symbol") refuse(String(v));
      if (typeof v === "function") refuse(String(v));
      if (seen.has(v)) return seen.get(v);
      let out;
      if (Array.isArray(v)) {
        out = new Array(v.length); seen.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBuffer.isView(v)) {
        const Ctor = v instanceof Uint8Array ? Uint8Array : v.constructor;
        out = new Ctor(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
      } else if (v instanceof Map) { out = new Map(); seen.set(v, out); for (const [k, x] of v) out.set(clone(k), clone(x)); return out; }
      else if (v instanceof Set) { out = new Set(); seen.set(v, out); for (const x of v) out.add(clone(x)); return out; }
      else if (v instanceof Error) {
        const Ctor = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[v.name] ?? Error;
        out = new Ctor(v.message); seen.set(v, out);
        if (v.stack !== undefined) out.stack = String(v.stack);
        if ("cause" in v) out.cause = clone(v.cause);
        return out;
      } else if (v instanceof Boolean || v instanceof Number || v instanceof String) out = Object(v.valueOf());
      else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) refuse(`#<${v.constructor.name}>`);
      else {
        out = {}; seen.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      seen.set(v, out);
      return out;
    };
    if (arguments.length === 0) throw new TypeError("The \"value\" argument must be specified");
    return clone(value);
  };

  // ---- process: what Lambda's Node runtime gives a function (its environment variables,
  // docs/cloudfront-behaviour.md: "Function environment") ---------------------------------
  // Reset when the isolate is given its context: the runtime may come from a startup
  // snapshot made when the node started (js/isolate.rs `startup_snapshot`).
  let started = Date.now();
  const process = {
    env: {},
    version: "v20.18.0",
    versions: { node: "20.18.0" },
    platform: "linux",
    arch: "x64",
    argv: ["/var/lang/bin/node", "/var/runtime/index.mjs"],
    execArgv: [],
    pid: 8,
    cwd: () => "/var/task",
    // deno_core keeps Node's nextTick queue: drained before promise callbacks when the
    // current job ends, as in Node.
    nextTick: (fn, ...args) => {
      if (typeof fn !== "function") throw Object.assign(new TypeError(`The "callback" argument must be of type function. Received ${inspect(fn)}`), { code: "ERR_INVALID_ARG_TYPE" });
      core.queueNextTick({ callback: fn, args: args.length ? args : undefined, snapshot: core.getAsyncContext() });
    },
    hrtime: Object.assign((prev) => {
      const ns = Math.round(performance.now() * 1e6);
      let s = Math.floor(ns / 1e9), n = ns % 1e9;
      if (prev) { s -= prev[0]; n -= prev[1]; if (n < 0) { s -= 1; n += 1e9; } }
      return [s, n];
    }, { bigint: () => BigInt(Math.round(performance.now() * 1e6)) }),
    memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
    uptime: () => (Date.now() - started) / 1000,
    emitWarning: (warning, type = "Warning") => {
      console.warn(`(node) ${typeof warning === "string" ? type : warning.name || type}: ${typeof warning === "string" ? warning : warning.message}`);
    },
  };
  globalThis.process = process;

  const builtins = {
    buffer: { Buffer, SlowBuffer: Buffer, kMaxLength: 2 ** 32, kStringMaxLength: 536870888, constants: { MAX_LENGTH: 2 ** 32, MAX_STRING_LENGTH: 536870888 }, INSPECT_MAX_BYTES: 50, atob: globalThis.atob, btoa: globalThis.btoa }, crypto, events: EventEmitter, path, "path/posix": path, querystring, url, util, process,
    timers: { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate },
  };
  // ---- Node modules made on first use ---------------------------------------------------
  // The larger modules (node/*.js) are compiled and built only when a function first asks
  // for one, so an isolate that never needs them does not pay for them. Each file is a
  // function of the runtime helpers it uses; what it returns is the module.
  const lazyModule = (file, make) => {
    let value;
    return () => (value ??= make(makeNodeModule(file)));
  };
  const helpers = { EventEmitter, Buffer, FastBuffer, inspect, normEnc, deepEqual, process, started, ops, builtins };
  const made = {
    stream: lazyModule("stream", (f) => f(helpers)),
    assert: lazyModule("assert", (f) => f(helpers)),
    os: lazyModule("os", (f) => f(helpers)),
    http: lazyModule("http", (f) => f(helpers)),
    fs: lazyModule("fs", (f) => f({ ...helpers, path })),
    zlib: lazyModule("zlib", (f) => f({ ...helpers, toBytes })),
    string_decoder: lazyModule("string_decoder", (f) => f({ ...helpers, toBytes })),
  };
  const lazyGetters = {
    stream: () => made.stream(),
    "stream/promises": () => made.stream().promises,
    assert: () => made.assert(),
    "assert/strict": () => made.assert().strict,
    os: () => made.os(),
    fs: () => made.fs(),
    zlib: () => made.zlib(),
    string_decoder: () => made.string_decoder(),
    "fs/promises": () => made.fs().promises,
    http: (() => { let m; return () => (m ??= made.http()("http:")); })(),
    https: (() => { let m; return () => (m ??= made.http()("https:")); })(),
  };
  for (const [name, get] of Object.entries(lazyGetters)) {
    Object.defineProperty(builtins, name, { get, enumerable: true, configurable: false });
  }

  // ---- modules: `require` inside the package, as Node 20 does it -------------------------
  // Resolution and file reads are Rust's (package.rs, modules.rs); the module objects, the
  // cache (`require.cache`, keyed by absolute path), cycles and the wrapper are here.
  const { op_edge_resolve, op_edge_module_source, op_edge_compile } = ops;
  const WRAPPER = "(function (exports, require, module, __filename, __dirname) {";
  // Node's own modules that this runtime does not provide, so that asking for one says so.
  const NODE_ONLY = ["async_hooks", "child_process", "cluster", "console", "constants", "dgram", "diagnostics_channel", "dns", "domain", "http2", "inspector", "module", "net", "perf_hooks", "punycode", "readline", "repl", "sys", "tls", "trace_events", "tty", "v8", "vm", "wasi", "worker_threads"];
  const moduleCache = Object.create(null);
  const dirOf = (p) => p.slice(0, Math.max(p.lastIndexOf("/"), 1));
  const moduleError = (code, message) => Object.assign(new Error(message), { code });
  class Module {
    constructor(filename, parent) {
      this.id = filename;
      this.path = dirOf(filename);
      this.exports = {};
      this.filename = filename;
      this.loaded = false;
      this.children = [];
      this.paths = [];
      Object.defineProperty(this, "parent", { value: parent, writable: true, configurable: true });
    }
    require(id) { return requireFrom(id, this); }
  }
  function resolveFrom(id, parent) {
    const r = op_edge_resolve(id, parent.filename);
    const nl = r.indexOf("\n");
    if (r[0] === "!") throw moduleError(r.slice(1, nl), r.slice(nl + 1));
    return [r.slice(0, nl), r.slice(nl + 1)];
  }
  function builtin(id) {
    const n = id.startsWith("node:") ? id.slice(5) : id;
    if (Object.prototype.hasOwnProperty.call(builtins, n)) return builtins[n];
    if (id.startsWith("node:") || NODE_ONLY.includes(n)) {
      throw moduleError(id.startsWith("node:") && !NODE_ONLY.includes(n) ? "ERR_UNKNOWN_BUILTIN_MODULE" : "MODULE_NOT_FOUND",
        `Cannot find module '${id}': Node's built-in '${n}' is not available in this runtime (it has ${Object.keys(builtins).join(", ")})`);
    }
    return undefined;
  }
  function makeRequire(mod) {
    const require = (id) => requireFrom(id, mod);
    require.resolve = (id) => {
      if (builtin(String(id)) !== undefined) return String(id);
      return resolveFrom(String(id), mod)[1];
    };
    require.cache = moduleCache;
    require.main = undefined;
    return require;
  }
  function requireFrom(id, parent) {
    if (typeof id !== "string") {
      throw Object.assign(new TypeError(`The "id" argument must be of type string. Received ${inspect(id)}`), { code: "ERR_INVALID_ARG_TYPE" });
    }
    if (id === "") throw Object.assign(new TypeError("The argument 'id' must be a non-empty string. Received ''"), { code: "ERR_INVALID_ARG_VALUE" });
    const b = builtin(id);
    if (b !== undefined) return b;
    const [format, filename] = resolveFrom(id, parent);
    const cached = moduleCache[filename];
    if (cached !== undefined) return cached.exports;
    if (format === "esm") {
      throw moduleError("ERR_REQUIRE_ESM", `require() of ES Module ${filename} from ${parent.filename} not supported.\nInstead change the require of ${filename} in ${parent.filename} to a dynamic import() which is available in all CommonJS modules.`);
    }
    return load(filename, format, parent).exports;
  }
  function load(filename, format, parent) {
    const m = new Module(filename, parent);
    moduleCache[filename] = m;
    if (parent) parent.children.push(m);
    try {
      const text = op_edge_module_source(filename);
      if (text === null) throw moduleError("ERR_INVALID_MODULE", `${filename} is not UTF-8 text`);
      const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      if (format === "json") {
        try { m.exports = JSON.parse(source); } catch (e) { e.message = `${filename}: ${e.message}`; throw e; }
      } else {
        // The wrapper opens on the module's first line, so line numbers are the file's; a
        // `#!` line stays a line (as a comment).
        const body = source.startsWith("#!") ? "//" + source : source;
        const [factory, thrown] = op_edge_compile(WRAPPER + body + "\n})", filename);
        if (factory === null) throw thrown;
        factory.call(m.exports, m.exports, makeRequire(m), m, filename, dirOf(filename));
      }
      m.loaded = true;
    } catch (e) {
      delete moduleCache[filename];
      throw e;
    }
    return m;
  }
  // What an ES module importing a CommonJS module gets: its exports, loaded once.
  function requireFromEsm(filename) {
    const cached = moduleCache[filename];
    return cached !== undefined ? cached.exports : load(filename, "cjs", null).exports;
  }
  const state = {
    handler: null, thenable: false, context: {}, serializing: null, cff: false, freeze: null,
  };
  // The handler's module, CommonJS: loads it (running its top level) and picks the export.
  function loadCommonJs(filename, exportPath, lenient) {
    const m = load(filename, "cjs", null);
    state.handler = pickHandler(m.exports, filename, exportPath, lenient);
  }
  function setModule(ns, filename, exportPath, lenient) { state.handler = pickHandler(ns, filename, exportPath, lenient); }
  function setContext(c) {
    state.context = c;
    started = Date.now();
    // The variables Lambda sets for every function (none of a user's: Lambda@Edge has none).
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x",
      AWS_LAMBDA_FUNCTION_NAME: c.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: c.functionVersion,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: c.memoryLimitInMB,
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_LAMBDA_LOG_GROUP_NAME: c.logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: c.logStreamName,
      LAMBDA_TASK_ROOT: "/var/task",
      LAMBDA_RUNTIME_DIR: "/var/runtime",
      TZ: ":UTC",
      LANG: "en_US.UTF-8",
      PATH: "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
      NODE_PATH: "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task",
    });
  }
  // What the realm must not show user code. deno_core reads what it needs from `Deno.core`
  // when the runtime is created; after that nothing of ours looks these up on the global.
  //
  // Besides ours, the engine (QuickJS-ng behind deno_core's V8 API) leaves helpers on the
  // global: `__v8x*` functions, `gc`, and Temporal's slot symbols. They go too, with the
  // globals Node does not have (`Temporal`, `ShadowRealm`, QuickJS's `InternalError`). The
  // engine's `Atomics.waitAsync` and `Atomics.notify` call two of those helpers through the
  // global; with one thread per isolate nothing else can wait on a buffer, so `notify` wakes
  // no one (0, after the usual argument checks) and `waitAsync` is withdrawn.
  const hidden = ["Deno", "__bootstrap", "__infra", "__edge_builtins", "gc", "Temporal", "ShadowRealm", "InternalError"];
  const internal = (key) => typeof key === "string" ? key.startsWith("__v8x") : String(key.description).startsWith("@@");
  function seal() {
    if (globalThis.Atomics) {
      const { load } = Atomics;
      delete Atomics.waitAsync;
      Object.defineProperty(Atomics, "notify", {
        value: function notify(view, index, count) { load(view, index); return 0; },
        writable: true, configurable: true,
      });
    }
    for (const key of [...hidden, ...Reflect.ownKeys(globalThis).filter(internal)]) {
      delete globalThis[key];
      if (Object.prototype.hasOwnProperty.call(globalThis, key)) throw new Error(`could not remove ${String(key)} from the realm`);
    }
  }
  // The ES module form of the Node modules reads them from here until the realm is sealed.
  Object.defineProperty(globalThis, "__edge_builtins", { value: { builtins, requireFromEsm }, configurable: true });
  // Lambda looks the handler up by its export path (`index.handler` → `handler`; dotted
  // paths go deeper). A single published file is also allowed `module.exports = fn` and
  // `export default`, as this runtime always has.
  function pickHandler(exp, filename, exportPath, lenient) {
    let h = exp;
    for (const key of exportPath.split(".")) h = h == null ? undefined : h[key];
    if (typeof h === "function") return h;
    if (lenient) {
      h = typeof exp === "function" ? exp
        : typeof exp?.default === "function" ? exp.default
        : typeof exp?.default?.handler === "function" ? exp.default.handler : null;
      if (h) return h;
      throw new Error(`${filename} exports no handler: use exports.handler, module.exports.handler, export const handler or export default`);
    }
    const name = `${filename.replace(/^\/var\/task\//, "").replace(/\.[cm]?js$/, "")}.${exportPath}`;
    throw Object.assign(new Error(`${name} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  }

  // One invocation. `invoke` never throws: it records the outcome in `state.outcome` as
  // "o<result JSON>", "c<0|1><result JSON>" (the object the event gave, see below) or
  // "e<error>", usually within the same microtask checkpoint; the runtime then reads it with
  // `take()`, or waits with `wait()` when the handler still has work pending. A handler that
  // neither calls back nor returns a promise never records an outcome; the runtime sees the
  // event loop drain and reports a null result (state.thenable = false).
  //
  // A hook pays for what it touches: in `eventJson` the parts a function may never read (the
  // request's headers, body and origin, the response's headers) are `[start,end]` ranges of
  // `partsText`, parsed on first read (an accessor that turns itself into the plain value,
  // keeping its place in key order; assigning replaces it the same way). When the handler
  // returns the very request (request stages) or response (response stages) it was given,
  // parts it never read are left out of the result and the leading digit says whether that
  // object's headers were among them (1): the node keeps what it sent instead of parsing it
  // back and checking it again.
  //
  // The call floor: what does not belong to one call is made once per isolate — the context's
  // methods (which act on the call whose context they are on, through `this.done`), the
  // promise handlers and the outcome functions; per call there is the event, the context
  // literal and one callback. `invoke` runs the microtasks itself and returns the outcome when
  // the handler has settled by then (null when it has not), so a call is one entry into JS.
  const runMicrotasks = core.runMicrotasks;
  // `given`: the request (request stages) or response the event gave, null for a plain
  // event; `givenLazyHeaders`: whether its headers were lazy.
  const current = { id: 0, deadline: 0, settled: false, given: null, givenLazyHeaders: false, direct: false, value: undefined, lazy: null };
  function settle(text) {
    // A CloudFront function's origin change goes first: "g<change JSON>\n<outcome>".
    if (state.originChange) {
      text = "g" + JSON.stringify(state.originChange) + "\n" + text;
      state.originChange = null;
    }
    state.outcome = text;
    if (state.waiter) state.waiter();
  }
  function finish(id, err, result) {
    if (id !== current.id || current.settled) return;
    current.settled = true;
    if (err !== null && err !== undefined) return settle("e" + describe(err));
    if (current.direct && !state.originChange) {
      // invokeDirect hands the value itself to the node (js/qjs.rs reads it).
      current.value = result;
      return settle("v");
    }
    let out;
    try {
      if (current.given !== null && result === current.given) {
        const untouched = current.givenLazyHeaders && isLazy(result, "headers");
        state.serializing = result;
        try { out = JSON.stringify(result); } finally { state.serializing = null; }
        return settle((untouched ? "c1" : "c0") + out);
      }
      out = JSON.stringify(result === undefined ? null : result);
    } catch (e) { return settle("u" + String(e && e.message)); }
    settle("o" + (out === undefined ? "null" : out));
  }
  function getRemainingTimeInMillis() { return Math.max(0, current.deadline - Date.now()); }
  function succeed(r) { return this.done(null, r); }
  function fail(e) { return this.done(e ?? new Error("failed")); }
  function resolved(v) { finish(current.id, null, v); }
  function rejected(e) { finish(current.id, e ?? new Error("the handler's promise was rejected")); }
  // What `invoke` hands the node in direct mode (js/isolate.rs `ReadBack`) when the handler
  // settled within the call: `[value, whether it is the given object with its headers
  // unread]`, one array reused by every call. Until the node has read it (`handedOver`), the
  // given object's unread parts read as undefined, as while `finish` serializes it.
  const HANDED = [undefined, false];
  function handedOver() {
    state.serializing = null;
    HANDED[0] = undefined;
  }
  // A new call: no outcome yet; its id (a callback of an earlier call is ignored).
  function begin() {
    HANDED[0] = undefined;
    state.serializing = null;
    current.lazy = null;
    state.outcome = null;
    state.waiter = null;
    state.thenable = false;
    current.settled = false;
    current.given = null;
    return ++current.id;
  }
  function invoke(eventJson, partsText, requestId, timeoutMs, direct) {
    const id = begin();
    current.deadline = Date.now() + timeoutMs;
    const callback = (err, result) => finish(id, err, result);
    try {
      const event = JSON.parse(eventJson);
      if (state.cff) {
        callCloudFront(id, event, partsText);
        if (state.outcome === null) runMicrotasks();
        return state.outcome;
      }
      if (partsText) {
        const cf = event.Records[0].cf;
        const req = cf.request, resp = cf.response;
        const reqLazy = lazy(req, partsText);
        const respLazy = resp ? lazy(resp, partsText) : false;
        current.given = resp || req;
        current.givenLazyHeaders = resp ? respLazy : reqLazy;
      }
      current.direct = direct === true;
      const c = state.context;
      // One literal of a fixed shape (cheaper than spreading the static fields in).
      const context = {
        functionName: c.functionName,
        functionVersion: c.functionVersion,
        invokedFunctionArn: c.invokedFunctionArn,
        memoryLimitInMB: c.memoryLimitInMB,
        logGroupName: c.logGroupName,
        logStreamName: c.logStreamName,
        awsRequestId: requestId,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis,
        done: callback, succeed, fail,
      };
      const r = state.handler(event, context, callback);
      if (r !== null && (typeof r === "object" || typeof r === "function") && typeof r.then === "function") {
        state.thenable = true;
        r.then(resolved, rejected);
      }
    } catch (e) {
      callback(e ?? new Error("the handler threw " + e));
    }
    if (state.outcome === null) runMicrotasks();
    if (!current.direct) return state.outcome;
    current.direct = false;
    if (state.outcome !== "v") return state.outcome;
    const v = current.value;
    current.value = undefined;
    const given = current.given !== null && v === current.given;
    HANDED[0] = v;
    HANDED[1] = given && current.givenLazyHeaders && isLazy(v, "headers");
    if (given) state.serializing = v;
    return HANDED;
  }
  // A CloudFront function's call (`invoke` and `invokeDirect`): the event is all it gets;
  // what it returns (or resolves to) is its answer. `Date` stands still from here to the end
  // of the call. The request's query string, headers and cookies, when `partsText` carries
  // them, are lazy; the request (viewer-request) or response (viewer-response) it returns
  // as given goes back as a change set: the node keeps the parts the function never read.
  // `partsText` null: a built event, whose request the node made with its lazy parts
  // already in place (`built` below).
  function callCloudFront(id, event, partsText) {
    state.freeze();
    state.eventType = event.context === undefined ? null : event.context.eventType;
    if (partsText !== "") {
      const req = event.request, resp = event.response;
      if (partsText !== null) lazy(req, partsText);
      current.lazy = req;
      current.given = resp === undefined ? req : resp;
      current.givenLazyHeaders = false;
    }
    const r = state.handler(event);
    if (r !== null && typeof r === "object" && typeof r.then === "function") {
      state.thenable = true;
      r.then(resolved, rejected);
    } else {
      finish(id, null, r);
    }
  }
  // A CloudFront function's call with its event built by the node as objects (js/qjs.rs),
  // not JSON: the same steps as `invoke`, but a handler that settles within this call with
  // no origin change gives its value back as it is (the node reads it as JSON would). Any
  // other outcome is recorded as `invoke` records it and `DEFERRED` comes back: the node
  // then takes it (or waits for it) as it does for `invoke`. The request's lazy parts come
  // ready: the node defines them with `built`'s accessors and stamps their text on it.
  const DEFERRED = Object.freeze({});
  function invokeDirect(event) {
    const id = begin();
    current.direct = true;
    try {
      callCloudFront(id, event, null);
    } catch (e) {
      finish(id, e ?? new Error("the handler threw " + e));
    }
    if (state.outcome === null) runMicrotasks();
    current.direct = false;
    if (state.outcome !== "v") return DEFERRED;
    const v = current.value;
    current.value = undefined;
    // The request it was given: while the node reads it, its unread parts read as undefined
    // and are left out (the node keeps its own), as when `finish` serializes it. Until the
    // next call begins.
    if (v === current.given) state.serializing = v;
    return v;
  }
  // A value the node could not read as plain data: the outcome `invoke` would have recorded.
  // Something other than the request with lazy parts (a Proxy of it, an object inheriting
  // from it) could reach those parts only through accessors that cannot find their data
  // from there: they are made plain first.
  function outcomeOf(result) {
    const req = current.lazy;
    if (req !== null && result !== req) {
      for (let i = 0; i < LAZY_KEYS.length; i++) if (isLazy(req, LAZY_KEYS[i])) part(req, LAZY_KEYS[i]);
    }
    let out;
    try { out = JSON.stringify(result === undefined ? null : result); } catch (e) { return "u" + String(e && e.message); }
    return "o" + (out === undefined ? "null" : out);
  }
  // The accessors of the lazy parts, made once: on first read a part is parsed from its
  // call's parts text and the accessor turns itself into the plain value (keeping its place
  // in key order); assigning does the same with the value given. While the object the event
  // gave is serialized as the function's result, its unread parts read as undefined, so JSON
  // leaves them out without parsing them (the node keeps its own). Each object's ranges stay
  // with it (a private field, `Pending`), so an object kept from an earlier call still reads
  // its own parts. Not a WeakMap: this engine frees a WeakMap's entries only when its cycle
  // collector runs, so a CloudFront function (2 MB) ran out of memory after ~1,000 calls.
  // Lambda@Edge's request has headers, body and origin lazy, its response headers;
  // CloudFront Functions' request its querystring, headers and cookies.
  // A base class that returns the object it is given makes `Pending` stamp its private
  // field on that object: invisible to the function (no key, no symbol, not copied).
  class Pending extends function (obj) { return obj; } {
    #p;
    constructor(obj, p) { super(obj); this.#p = p; }
    static of(obj) { return obj.#p; }
  }
  // A built request's parts (js/qjs.rs) are one array, `[text, end of the query string, end
  // of the headers]`, the cookies last.
  const BUILT_AT = { querystring: 0, headers: 1, cookies: 2 };
  function part(obj, key) {
    const p = Pending.of(obj);
    let text;
    if (Array.isArray(p)) {
      const i = BUILT_AT[key];
      text = p[0].slice(i === 0 ? 0 : p[i], i === 2 ? p[0].length : p[i + 1]);
    } else {
      const range = p[key];
      text = p.parts.slice(range[0], range[1]);
    }
    const value = JSON.parse(text);
    become(obj, key, value);
    return value;
  }
  function become(obj, key, value) {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  }
  const LAZY_KEYS = ["headers", "body", "origin", "querystring", "cookies"];
  const LAZY = {};
  for (const key of LAZY_KEYS) {
    LAZY[key] = {
      get() { return state.serializing === this ? undefined : part(this, key); },
      set(value) { become(this, key, value); },
      enumerable: true, configurable: true,
    };
  }
  // Makes the parts of `obj` the event carried as `[start,end]` ranges lazy; whether its
  // headers are.
  function lazy(obj, parts) {
    const p = { parts, headers: obj.headers, body: obj.body, origin: obj.origin, querystring: obj.querystring, cookies: obj.cookies };
    for (let i = 0; i < LAZY_KEYS.length; i++) {
      const key = LAZY_KEYS[i];
      if (Array.isArray(p[key])) Object.defineProperty(obj, key, LAZY[key]);
    }
    new Pending(obj, p);
    return Array.isArray(p.headers);
  }
  // What the node needs to build a request whose parts are lazy without calling into
  // JavaScript (js/qjs.rs `Builder::lazy`, `Builder::stamp`): the accessors of the query
  // string, headers and cookies, and an object carrying `Pending`'s private field, from which
  // the node takes that field's name to stamp the request with its parts itself.
  const built = {
    accessors: [LAZY.querystring.get, LAZY.querystring.set, LAZY.headers.get, LAZY.headers.set, LAZY.cookies.get, LAZY.cookies.set],
    stamped: new Pending({}, null),
  };
  function isLazy(obj, key) {
    const d = Object.getOwnPropertyDescriptor(obj, key);
    return d !== undefined && d.get !== undefined && d.get === LAZY[key].get;
  }
  // An error as the function's log and the viewer's detail show it: its stack without the
  // frames of this runtime (`edge:` scripts), which are ours, not the function's.
  function describe(err) {
    if (err instanceof Error) {
      const stack = err.stack;
      if (!stack) return `${err.name}: ${err.message}`;
      return stack.split("\n").filter((l) => !l.includes("(edge:")).join("\n");
    }
    return typeof err === "string" ? err : JSON.stringify(err);
  }
  // ---- CloudFront Functions ---------------------------------------------------------------
  // A CloudFront function is a script whose top level declares `handler(event)`, in a realm
  // smaller than Lambda's (docs/cloudfront-functions.md): the language's own globals,
  // `console`, `atob`/`btoa`, text coding, and in runtime 2.0 `Buffer`; no timers, network,
  // file system, `process` or dynamic code; `require`/`import` of `crypto`, `querystring` and
  // (2.0) `buffer` and `cloudfront`. `Date` is frozen at the start of each call.
  const CFF_GLOBALS = new Set([
    "Object", "Function", "Array", "Number", "parseFloat", "parseInt", "Infinity", "NaN", "undefined",
    "Boolean", "String", "Symbol", "Date", "Promise", "RegExp", "Error", "AggregateError", "EvalError",
    "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError", "globalThis", "JSON", "Math",
    "ArrayBuffer", "Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
    "Float32Array", "Float64Array", "Uint8ClampedArray", "BigInt64Array", "BigUint64Array", "BigInt",
    "DataView", "Map", "Set", "WeakMap", "WeakSet", "Proxy", "Reflect", "decodeURI", "decodeURIComponent",
    "encodeURI", "encodeURIComponent", "escape", "unescape", "isFinite", "isNaN", "console", "atob", "btoa",
    "TextEncoder", "TextDecoder",
  ]);
  // A KeyValueStore handle (docs/cloudfront-functions.md "KeyValueStore"): reads go to the
  // node's in-memory copy of the store through one op each; results are settled promises, as
  // CloudFront's methods are async.
  // Values read are kept in the isolate (up to CACHE_CHARS characters) and dropped when the
  // node's stores change: the first read of a call asks the node's generation (one op without
  // arguments), later reads of a key already seen cost a Map lookup.
  const { op_edge_kvs_slot, op_edge_kvs_get, op_edge_kvs_meta, op_edge_kvs_generation } = ops;
  const CACHE_CHARS = 65536;
  const kvsCall = { fresh: false };
  // The real Date (a CloudFront function's is frozen per call): for the store's own times.
  const KvsDate = Date;
  function kvsHandle(id) {
    const slot = op_edge_kvs_slot(id);
    const cache = new Map();
    let generation = -1, chars = 0;
    const read = (k) => {
      if (typeof k !== "string" || k === "") throw new TypeError("the key must be a non-empty string");
      if (!kvsCall.fresh) {
        const g = op_edge_kvs_generation();
        if (g !== generation) { cache.clear(); chars = 0; generation = g; }
        kvsCall.fresh = true;
      }
      let value = cache.get(k);
      if (value === undefined) {
        value = op_edge_kvs_get(slot, k);
        if (value === undefined) value = null;
        chars += k.length + (value === null ? 0 : value.length);
        if (chars > CACHE_CHARS) { cache.clear(); chars = 0; }
        cache.set(k, value);
      }
      return value;
    };
    const decode = (value, options) => {
      const format = options === undefined || options === null || options.format === undefined ? "string" : options.format;
      if (format === "string") return value;
      if (format === "json") return JSON.parse(value);
      if (format === "bytes") return new TextEncoder().encode(value);
      throw new TypeError(`format ${JSON.stringify(format)} is not one of string, json, bytes`);
    };
    return Object.freeze({
      get(k, options) {
        try {
          const value = read(k);
          if (value === null) throw new Error(`Key ${k} not found in KeyValueStore ${id}`);
          return Promise.resolve(decode(value, options));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      exists(k) {
        try { return Promise.resolve(read(k) !== null); } catch (e) { return Promise.reject(e); }
      },
      meta() {
        const m = op_edge_kvs_meta(slot);
        if (m === null || m === undefined) return Promise.reject(new Error(`KeyValueStore ${id} is not on this node`));
        return Promise.resolve({
          creationDateTime: new KvsDate(m[0]).toISOString(),
          lastUpdatedDateTime: new KvsDate(m[1]).toISOString(),
          keyCount: m[2],
        });
      },
    });
  }
  function loadCff(source, filename, v2, kvsId) {
    seal();
    const modules = { crypto: builtins.crypto, querystring: builtins.querystring };
    if (v2) {
      modules.buffer = builtins.buffer;
      let handle = null;
      // The origin helpers (viewer-request only): each call records what the request's origin
      // becomes; the node checks it against the distribution's origins after the call.
      const plain = (v, what) => {
        if (v === null || typeof v !== "object" || Array.isArray(v)) throw new TypeError(`${what} must be an object`);
        return JSON.parse(JSON.stringify(v));
      };
      const setOrigin = (change) => {
        if (state.eventType !== "viewer-request") throw new Error("the origin can only be changed by a viewer-request function");
        state.originChange = change;
      };
      modules.cloudfront = Object.freeze({
        updateRequestOrigin(params) { setOrigin({ update: plain(params, "updateRequestOrigin's argument") }); },
        selectRequestOriginById(id) {
          if (typeof id !== "string" || id === "") throw new TypeError("selectRequestOriginById takes an origin Id (a string)");
          setOrigin({ select: id });
        },
        createRequestOriginGroup(params) { setOrigin({ group: plain(params, "createRequestOriginGroup's argument") }); },
        kvs(id) {
          if (kvsId === null) throw new Error("this function has no KeyValueStore association");
          if (id !== undefined && id !== kvsId) throw new Error(`KeyValueStore ${id} is not associated with this function (it has ${kvsId})`);
          if (handle === null) handle = kvsHandle(kvsId);
          return handle;
        },
      });
    }
    const cffRequire = (id) => {
      if (typeof id === "string" && Object.prototype.hasOwnProperty.call(modules, id)) return modules[id];
      throw new Error(`Cannot find module '${id}' (CloudFront Functions have ${Object.keys(modules).join(", ")})`);
    };
    for (const key of Reflect.ownKeys(globalThis)) {
      if (CFF_GLOBALS.has(key) || (v2 && key === "Buffer")) continue;
      delete globalThis[key];
    }
    // No code from strings: eval is gone with the globals; Function and its async and
    // generator kinds refuse to make code.
    const refuse = function Function() { throw new EvalError("Code generation from strings is not allowed in CloudFront Functions"); };
    for (const f of [function () {}, function* () {}, async function () {}, async function* () {}]) {
      Object.defineProperty(Object.getPrototypeOf(f), "constructor", { value: refuse, writable: true, configurable: true });
    }
    refuse.prototype = Function.prototype;
    globalThis.Function = refuse;
    // Date, frozen at the start of each call.
    const RealDate = Date, realNow = Date.now;
    let frozen = realNow();
    function FrozenDate(...args) {
      if (new.target === undefined) return new RealDate(frozen).toString();
      return Reflect.construct(RealDate, args.length ? args : [frozen], new.target);
    }
    FrozenDate.prototype = RealDate.prototype;
    FrozenDate.now = () => frozen;
    FrozenDate.parse = RealDate.parse;
    FrozenDate.UTC = RealDate.UTC;
    Object.defineProperty(RealDate.prototype, "constructor", { value: FrozenDate, writable: true, configurable: true });
    globalThis.Date = FrozenDate;
    state.freeze = () => { frozen = realNow(); kvsCall.fresh = false; state.originChange = null; };
    const [factory, thrown] = op_edge_compile(
      "(function (require, __cff_import) {" + source + "\n;return typeof handler === \"function\" ? handler : undefined;\n})", filename);
    if (factory === null) throw thrown;
    const handler = factory.call(undefined, cffRequire, cffRequire);
    if (typeof handler !== "function") throw new TypeError(`${filename}: handler is not a function`);
    state.handler = handler;
    state.cff = true;
  }
  const take = () => state.outcome;
  const wait = () => state.outcome !== null ? Promise.resolve() : new Promise((resolve) => { state.waiter = resolve; });
  const thenable = () => state.thenable;
  return { invoke, invokeDirect, outcomeOf, handed: HANDED, handedOver, deferred: DEFERRED, built, take, wait, thenable, loadCommonJs, setModule, setContext, seal, loadCff };
})(globalThis);
