// node:http and https — compiled the first time a function asks for it (not in every isolate), from
// the runtime's own helpers; see runtime.js "Node modules made on first use".
((helpers) => {
  "use strict";
  const { Buffer, ops, builtins } = helpers;
  const { Readable, Writable } = builtins.stream;
  const inherit = (Child, Parent) => { Object.setPrototypeOf(Child.prototype, Parent.prototype); Object.setPrototypeOf(Child, Parent); };
  // ---- http and https: request/get through the node's own client (the same as `fetch`: in
  // origin-stage functions only, within the function's timeout) -----------------------------
  const STATUS_CODES = { 100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 412: "Precondition Failed", 413: "Payload Too Large", 414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };
  function IncomingMessage() { Readable.call(this); this.headers = {}; this.rawHeaders = []; this.statusCode = 0; this.statusMessage = ""; this.httpVersion = "1.1"; this.complete = false; }
  inherit(IncomingMessage, Readable);
  IncomingMessage.prototype._read = function () {};
  IncomingMessage.prototype.setTimeout = function () { return this; };
  function ClientRequest(scheme, input, options, callback) {
    Writable.call(this);
    if (typeof options === "function") { callback = options; options = undefined; }
    let o = {};
    if (typeof input === "string" || input instanceof URL) {
      const u = new URL(String(input));
      o = { protocol: u.protocol, hostname: u.hostname, port: u.port, path: u.pathname + u.search, auth: u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined };
      Object.assign(o, options);
    } else {
      o = { ...input, ...options };
    }
    const protocol = o.protocol || scheme;
    if (protocol !== scheme) throw Object.assign(new TypeError(`Protocol "${protocol}" not supported. Expected "${scheme}"`), { code: "ERR_INVALID_PROTOCOL" });
    const host = o.hostname || (o.host ? String(o.host).replace(/:\d+$/, "") : "localhost");
    const port = o.port ? `:${o.port}` : "";
    this.method = String(o.method || "GET").toUpperCase();
    this.path = o.path || "/";
    this.host = host;
    this.protocol = protocol;
    this._url = `${protocol}//${host.includes(":") ? `[${host}]` : host}${port}${this.path}`;
    this._headers = new Map();
    for (const [k, v] of Object.entries(o.headers || {})) this.setHeader(k, v);
    if (o.auth && !this._headers.has("authorization")) this.setHeader("Authorization", "Basic " + Buffer.from(o.auth).toString("base64"));
    this._chunks = [];
    this._timeout = o.timeout;
    if (callback) this.once("response", callback);
  }
  inherit(ClientRequest, Writable);
  Object.assign(ClientRequest.prototype, {
    setHeader(name, value) { this._headers.set(String(name).toLowerCase(), [name, value]); return this; },
    getHeader(name) { return this._headers.get(String(name).toLowerCase())?.[1]; },
    removeHeader(name) { this._headers.delete(String(name).toLowerCase()); },
    getHeaders() { return Object.fromEntries([...this._headers].map(([k, [, v]]) => [k, v])); },
    setTimeout(ms, cb) { this._timeout = ms; if (cb) this.once("timeout", cb); return this; },
    setNoDelay() {}, setSocketKeepAlive() {},
    abort() { this.destroy(); },
    _write(chunk, enc, cb) { this._chunks.push(chunk); cb(); },
    _final(cb) {
      const headers = [];
      for (const [, [k, v]] of this._headers) for (const one of Array.isArray(v) ? v : [v]) headers.push([String(k), String(one)]);
      const body = this._chunks.length ? Buffer.concat(this._chunks) : null;
      let timer = null, done = false;
      if (this._timeout) timer = setTimeout(() => { if (!done) this.emit("timeout"); }, this._timeout);
      ops.op_edge_fetch(this._url, this.method, headers, body).then((r) => {
        done = true;
        if (timer) clearTimeout(timer);
        if (this.destroyed) return;
        const res = new IncomingMessage();
        res.statusCode = r.status;
        res.statusMessage = r.statusText;
        for (const [k, v] of r.headers) {
          res.rawHeaders.push(k, v);
          if (k === "set-cookie") (res.headers[k] ??= []).push(v);
          else res.headers[k] = k in res.headers ? `${res.headers[k]}, ${v}` : v;
        }
        res.req = this;
        this.res = res;
        this.emit("response", res);
        if (r.body.length) res.push(Buffer.from(r.body));
        res.complete = true;
        res.push(null);
      }, (e) => {
        done = true;
        if (timer) clearTimeout(timer);
        if (!this.destroyed) this.emit("error", e);
      });
      cb();
    },
  });
  const httpModule = (scheme) => {
    const request = (input, options, callback) => new ClientRequest(scheme, input, options, callback);
    const get = (input, options, callback) => { const req = request(input, options, callback); req.end(); return req; };
    function Agent(options) { this.options = options ?? {}; }
    return { request, get, Agent, globalAgent: new Agent(), STATUS_CODES, METHODS: ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"], IncomingMessage, ClientRequest };
  };
  return httpModule;
})
