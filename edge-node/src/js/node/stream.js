// node:stream — compiled the first time a function asks for it (not in every isolate), from
// the runtime's own helpers; see runtime.js "Node modules made on first use".
((helpers) => {
  "use strict";
  const { EventEmitter, Buffer, FastBuffer, inspect, normEnc } = helpers;
  // ---- stream: Node's Readable, Writable, Duplex, Transform, PassThrough, pipeline --------
  // Function constructors, as Node's are (old-style code calls `Readable.call(this)`), with
  // events on the next tick. Backpressure is advisory: `write` and `push` say when the
  // high-water mark is passed, and everything is buffered.
  const tick = (fn, ...args) => queueMicrotask(() => fn(...args));
  const streamError = (code, message, Ctor = Error) => Object.assign(new Ctor(message), { code });
  const inherit = (Child, Parent) => { Object.setPrototypeOf(Child.prototype, Parent.prototype); Object.setPrototypeOf(Child, Parent); };
  function Stream(opts) { EventEmitter.call(this, opts); }
  inherit(Stream, EventEmitter);
  Stream.prototype.pipe = function pipe(dest, options) {
    const src = this;
    src.on("data", (chunk) => { if (dest.write(chunk) === false && src.pause) src.pause(); });
    dest.on("drain", () => src.resume && src.resume());
    if (!options || options.end !== false) src.on("end", () => dest.end());
    dest.emit("pipe", src);
    return dest;
  };
  const toChunk = (state, chunk, enc) => {
    if (state.objectMode) return chunk;
    if (typeof chunk === "string") return Buffer.from(chunk, enc || state.defaultEncoding);
    if (chunk instanceof Uint8Array) return chunk instanceof FastBuffer ? chunk : Buffer.from(chunk);
    throw streamError("ERR_INVALID_ARG_TYPE", `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${inspect(chunk)}`, TypeError);
  };
  function Readable(options = {}) {
    if (!(this instanceof Readable)) return new Readable(options);
    this._readableState = {
      buffer: [], length: 0, ended: false, endEmitted: false, flowing: null, reading: false, scheduled: false,
      objectMode: !!(options.objectMode || options.readableObjectMode), encoding: options.encoding || null,
      highWaterMark: options.highWaterMark ?? (options.objectMode ? 16 : 16384), destroyed: false, defaultEncoding: "utf8",
    };
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    Stream.call(this, options);
  }
  inherit(Readable, Stream);
  const flow = (r) => {
    const st = r._readableState;
    st.scheduled = false;
    while (st.flowing && !st.destroyed) {
      if (st.buffer.length === 0) {
        if (st.ended) { endReadable(r); return; }
        if (!st.reading) { st.reading = true; r._read(st.highWaterMark); st.reading = false; }
        if (st.buffer.length === 0) return;
      }
      const chunk = st.buffer.shift();
      st.length -= st.objectMode ? 1 : chunk.length;
      r.emit("data", st.encoding && !st.objectMode ? chunk.toString(st.encoding) : chunk);
    }
  };
  const scheduleFlow = (r) => { const st = r._readableState; if (!st.scheduled) { st.scheduled = true; tick(flow, r); } };
  const endReadable = (r) => {
    const st = r._readableState;
    if (st.endEmitted || st.buffer.length) return;
    st.endEmitted = true;
    tick(() => { r.emit("end"); if (!r._writableState || r._writableState.finished) maybeClose(r); });
  };
  const maybeClose = (s) => { if (!s._closed) { s._closed = true; tick(() => s.emit("close")); } };
  Object.assign(Readable.prototype, {
    push(chunk, enc) {
      const st = this._readableState;
      if (chunk === null) { st.ended = true; if (st.flowing) scheduleFlow(this); else if (!st.buffer.length) tick(() => this.emit("readable")); return false; }
      if (st.ended) { this.emit("error", streamError("ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF")); return false; }
      const c = toChunk(st, chunk, enc);
      st.buffer.push(c);
      st.length += st.objectMode ? 1 : c.length;
      if (st.flowing) scheduleFlow(this); else tick(() => this.emit("readable"));
      return st.length < st.highWaterMark;
    },
    unshift(chunk) { const st = this._readableState; const c = toChunk(st, chunk); st.buffer.unshift(c); st.length += st.objectMode ? 1 : c.length; },
    read() {
      const st = this._readableState;
      if (st.buffer.length === 0) {
        if (st.ended) endReadable(this);
        else if (!st.reading) { st.reading = true; this._read(st.highWaterMark); st.reading = false; }
        if (st.buffer.length === 0) return null;
      }
      let out;
      if (st.objectMode) out = st.buffer.shift();
      else { out = Buffer.concat(st.buffer); st.buffer = []; }
      st.length -= st.objectMode ? 1 : out.length;
      if (st.ended && st.buffer.length === 0) endReadable(this);
      return st.encoding && !st.objectMode ? out.toString(st.encoding) : out;
    },
    _read() { throw streamError("ERR_METHOD_NOT_IMPLEMENTED", "The _read() method is not implemented"); },
    on(name, fn) {
      const r = EventEmitter.prototype.on.call(this, name, fn);
      if (name === "data" && this._readableState.flowing !== false) this.resume();
      return r;
    },
    resume() { const st = this._readableState; st.flowing = true; scheduleFlow(this); return this; },
    pause() { this._readableState.flowing = false; return this; },
    isPaused() { return this._readableState.flowing === false; },
    setEncoding(enc) { this._readableState.encoding = normEnc(enc) === "utf8" ? "utf8" : enc; return this; },
    pipe(dest, options) { const r = Stream.prototype.pipe.call(this, dest, options); this.resume(); return r; },
    unpipe() { this.removeAllListeners("data"); return this; },
    destroy(err) {
      const st = this._readableState;
      if (st.destroyed) return this;
      st.destroyed = true;
      if (this._writableState) this._writableState.destroyed = true;
      const done = (e) => { if (e) tick(() => this.emit("error", e)); maybeClose(this); };
      if (this._destroy) this._destroy(err ?? null, done); else done(err);
      return this;
    },
    [Symbol.asyncIterator]() {
      const chunks = [];
      let done = false, failed = null, wake = null;
      this.on("data", (c) => { chunks.push(c); wake?.(); });
      this.on("end", () => { done = true; wake?.(); });
      this.on("error", (e) => { failed = e; wake?.(); });
      return {
        next: async () => {
          while (!chunks.length && !done && !failed) await new Promise((r) => { wake = r; });
          wake = null;
          if (chunks.length) return { value: chunks.shift(), done: false };
          if (failed) throw failed;
          return { value: undefined, done: true };
        },
        return: async () => { this.destroy(); return { value: undefined, done: true }; },
        [Symbol.asyncIterator]() { return this; },
      };
    },
  });
  Object.defineProperties(Readable.prototype, {
    readable: { get() { const st = this._readableState; return !!st && !st.destroyed && !st.endEmitted; }, configurable: true },
    readableEnded: { get() { return this._readableState.endEmitted; }, configurable: true },
    readableLength: { get() { return this._readableState.length; }, configurable: true },
    readableObjectMode: { get() { return this._readableState.objectMode; }, configurable: true },
    destroyed: { get() { return (this._readableState ?? this._writableState).destroyed; }, configurable: true },
  });
  Readable.from = (iterable, options = {}) => {
    const r = new Readable({ objectMode: true, ...options, read() {} });
    if (typeof iterable === "string" || iterable instanceof Uint8Array) { r.push(iterable); r.push(null); return r; }
    (async () => {
      try { for await (const v of iterable) r.push(v); r.push(null); } catch (e) { r.destroy(e); }
    })();
    return r;
  };
  function Writable(options = {}) {
    if (!(this instanceof Writable) && !(this instanceof Duplex)) return new Writable(options);
    this._writableState = {
      queue: [], writing: false, ending: false, ended: false, finished: false, destroyed: false, corked: 0,
      objectMode: !!(options.objectMode || options.writableObjectMode), decodeStrings: options.decodeStrings !== false,
      highWaterMark: options.highWaterMark ?? (options.objectMode ? 16 : 16384), length: 0, defaultEncoding: options.defaultEncoding || "utf8",
    };
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (!this._readableState) Stream.call(this, options);
  }
  inherit(Writable, Stream);
  const drainWrites = (w) => {
    const st = w._writableState;
    if (st.writing || st.corked || st.destroyed) return;
    const next = st.queue.shift();
    if (!next) {
      if (st.ending && !st.finished) finishWritable(w);
      return;
    }
    st.writing = true;
    w._write(next.chunk, next.encoding, (err) => {
      st.writing = false;
      st.length -= st.objectMode ? 1 : next.chunk.length;
      if (err) { st.destroyed = true; next.cb?.(err); tick(() => w.emit("error", err)); return; }
      next.cb?.(null);
      if (st.length === 0 && st.needDrain) { st.needDrain = false; tick(() => w.emit("drain")); }
      tick(drainWrites, w);
    });
  };
  const finishWritable = (w) => {
    const st = w._writableState;
    if (st.finishing) return;
    st.finishing = true;
    const done = (err) => {
      if (err) { tick(() => w.emit("error", err)); return; }
      st.finished = true;
      tick(() => {
        w.emit("finish");
        for (const cb of st.endCallbacks ?? []) cb();
        if (!w._readableState || w._readableState.endEmitted) maybeClose(w);
      });
    };
    if (w._final) w._final(done); else done();
  };
  Object.assign(Writable.prototype, {
    write(chunk, encoding, cb) {
      const st = this._writableState;
      if (typeof encoding === "function") { cb = encoding; encoding = null; }
      if (chunk === null) throw streamError("ERR_STREAM_NULL_VALUES", "May not write null values to stream", TypeError);
      if (st.ending) {
        const e = streamError("ERR_STREAM_WRITE_AFTER_END", "write after end");
        tick(() => { cb?.(e); this.emit("error", e); });
        return false;
      }
      const encoded = !st.objectMode && typeof chunk === "string" && st.decodeStrings;
      const c = st.objectMode || (typeof chunk === "string" && !st.decodeStrings) ? chunk : toChunk(st, chunk, encoding);
      st.queue.push({ chunk: c, encoding: encoded || c instanceof Uint8Array ? "buffer" : encoding || st.defaultEncoding, cb });
      st.length += st.objectMode ? 1 : c.length;
      const ok = st.length < st.highWaterMark;
      if (!ok) st.needDrain = true;
      drainWrites(this);
      return ok;
    },
    end(chunk, encoding, cb) {
      const st = this._writableState;
      if (typeof chunk === "function") { cb = chunk; chunk = null; }
      else if (typeof encoding === "function") { cb = encoding; encoding = null; }
      if (chunk !== null && chunk !== undefined) this.write(chunk, encoding);
      if (cb) (st.endCallbacks ??= []).push(cb);
      if (!st.ending) { st.ending = true; st.ended = true; drainWrites(this); }
      return this;
    },
    _write(chunk, encoding, cb) {
      if (this._writev) this._writev([{ chunk, encoding }], cb);
      else throw streamError("ERR_METHOD_NOT_IMPLEMENTED", "The _write() method is not implemented");
    },
    cork() { this._writableState.corked++; },
    uncork() { const st = this._writableState; if (st.corked) st.corked--; drainWrites(this); },
    setDefaultEncoding(enc) { this._writableState.defaultEncoding = enc; return this; },
    destroy(err) { return Readable.prototype.destroy.call(Object.assign(this, { _readableState: this._readableState ?? { destroyed: false } }), err); },
  });
  Object.defineProperties(Writable.prototype, {
    writable: { get() { const st = this._writableState; return !!st && !st.destroyed && !st.ending; }, configurable: true },
    writableEnded: { get() { return this._writableState.ending; }, configurable: true },
    writableFinished: { get() { return this._writableState.finished; }, configurable: true },
    writableLength: { get() { return this._writableState.length; }, configurable: true },
    writableObjectMode: { get() { return this._writableState.objectMode; }, configurable: true },
  });
  function Duplex(options = {}) {
    if (!(this instanceof Duplex)) return new Duplex(options);
    Readable.call(this, options);
    Writable.call(this, options);
    if (options.allowHalfOpen === false) this.once("end", () => this.end());
  }
  inherit(Duplex, Readable);
  for (const key of Reflect.ownKeys(Writable.prototype)) {
    if (key !== "constructor" && !Object.prototype.hasOwnProperty.call(Duplex.prototype, key)) {
      Object.defineProperty(Duplex.prototype, key, Object.getOwnPropertyDescriptor(Writable.prototype, key));
    }
  }
  Duplex.prototype.destroy = Readable.prototype.destroy;
  function Transform(options = {}) {
    if (!(this instanceof Transform)) return new Transform(options);
    Duplex.call(this, options);
    if (typeof options.transform === "function") this._transform = options.transform;
    if (typeof options.flush === "function") this._flush = options.flush;
  }
  inherit(Transform, Duplex);
  Object.assign(Transform.prototype, {
    _write(chunk, encoding, cb) {
      this._transform(chunk, encoding, (err, data) => {
        if (err) return cb(err);
        if (data !== null && data !== undefined) this.push(data);
        cb();
      });
    },
    _final(cb) {
      const end = (err, data) => {
        if (err) return cb(err);
        if (data !== null && data !== undefined) this.push(data);
        this.push(null);
        // As in Node, the readable side ends before the writable side finishes.
        tick(cb);
      };
      if (this._flush) this._flush(end); else end();
    },
    _read() {},
    _transform() { throw streamError("ERR_METHOD_NOT_IMPLEMENTED", "The _transform() method is not implemented"); },
  });
  function PassThrough(options) {
    if (!(this instanceof PassThrough)) return new PassThrough(options);
    Transform.call(this, options);
  }
  inherit(PassThrough, Transform);
  PassThrough.prototype._transform = function (chunk, enc, cb) { cb(null, chunk); };
  function finished(s, opts, cb) {
    if (typeof opts === "function") cb = opts;
    let called = false;
    const done = (err) => { if (!called) { called = true; cb(err); } };
    s.on("error", done);
    if (s._writableState && !s._readableState?.flowing) s.on("finish", () => done());
    if (s._readableState) s.on("end", () => done());
    s.on("close", () => done());
    return () => {};
  }
  function pipeline(...streams) {
    const cb = typeof streams[streams.length - 1] === "function" ? streams.pop() : () => {};
    if (Array.isArray(streams[0])) streams = streams[0];
    let failed = false;
    const fail = (err) => {
      if (failed) return;
      failed = true;
      for (const s of streams) if (s.destroy) s.destroy();
      cb(err);
    };
    for (let i = 0; i < streams.length; i++) {
      streams[i].on("error", fail);
      if (i + 1 < streams.length) streams[i].pipe(streams[i + 1]);
    }
    const last = streams[streams.length - 1];
    last.on(last._writableState ? "finish" : "end", () => { if (!failed) cb(); });
    if (!last._writableState) last.resume?.();
    return last;
  }
  const streamPromises = {
    pipeline: (...streams) => new Promise((resolve, reject) => pipeline(...streams, (e) => (e ? reject(e) : resolve()))),
    finished: (s, opts) => new Promise((resolve, reject) => finished(s, opts, (e) => (e ? reject(e) : resolve()))),
  };
  Object.assign(Stream, { Stream, Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished, promises: streamPromises });
  return Stream;
})
