// node:zlib — compiled the first time a function asks for it; see runtime.js "Node modules
// made on first use".
((helpers) => {
  "use strict";
  const { Buffer, ops, toBytes, builtins } = helpers;
  // ---- zlib ------------------------------------------------------------------------------------
  // Sync, callback and stream forms of each operation; the work is native (flate2, brotli)
  // and done at once (a callback is called on a later tick, as Node's thread pool would).
  const ZLIB_CONSTANTS = {
    Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_OK: 0, Z_STREAM_END: 1,
    Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1,
    BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2,
    BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0, BROTLI_MODE_TEXT: 1, BROTLI_PARAM_QUALITY: 1, BROTLI_MIN_QUALITY: 0, BROTLI_MAX_QUALITY: 11, BROTLI_DEFAULT_QUALITY: 11,
    BROTLI_PARAM_LGWIN: 2, BROTLI_PARAM_SIZE_HINT: 5,
  };
  const levelOf = (kind, opts) => kind === "brotliCompress" ? (opts?.params?.[ZLIB_CONSTANTS.BROTLI_PARAM_QUALITY] ?? -1) : (opts?.level ?? -1);
  const zsync = (kind) => (data, opts) => Buffer.from(ops.op_edge_zlib(kind, toBytes(typeof data === "string" ? Buffer.from(data) : data), levelOf(kind, opts)));
  const zcallback = (kind) => (data, opts, cb) => {
    if (typeof opts === "function") { cb = opts; opts = undefined; }
    let out, failure = null;
    try { out = zsync(kind)(data, opts); } catch (e) { failure = e; }
    queueMicrotask(() => (failure ? cb(failure) : cb(null, out)));
  };
  const zstream = (kind) => (opts) => {
    const parts = [];
    return new builtins.stream.Transform({
      transform(chunk, enc, cb) { parts.push(chunk); cb(); },
      flush(cb) { try { cb(null, zsync(kind)(Buffer.concat(parts), opts)); } catch (e) { cb(e); } },
    });
  };
  const zlib = { constants: ZLIB_CONSTANTS, ...ZLIB_CONSTANTS };
  for (const [name, kind, stream] of [["gzip", "gzip", "Gzip"], ["gunzip", "gunzip", "Gunzip"], ["deflate", "deflate", "Deflate"], ["inflate", "inflate", "Inflate"], ["deflateRaw", "deflateRaw", "DeflateRaw"], ["inflateRaw", "inflateRaw", "InflateRaw"], ["unzip", "unzip", "Unzip"], ["brotliCompress", "brotliCompress", "BrotliCompress"], ["brotliDecompress", "brotliDecompress", "BrotliDecompress"]]) {
    zlib[`${name}Sync`] = zsync(kind);
    zlib[name] = zcallback(kind);
    zlib[`create${stream}`] = zstream(kind);
  }
  return zlib;
})
