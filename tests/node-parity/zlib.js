// zlib as functions use it: compress what the origin sent, decompress a request body. The
// compressed bytes differ between implementations (both valid), so cases compare what comes
// back out, in both directions against Node's own output.
const zlib = require("zlib");
const text = "Lambda@Edge ".repeat(200);
// Compressed by Node 20 (zlib.gzipSync("hello gzip") and zlib.brotliCompressSync("hello brotli")).
const NODE_GZIP = "H4sIAAAAAAAAA8tIzcnJV0ivyiwAABlq0t8KAAAA";
const NODE_BROTLI = "iwWAaGVsbG8gYnJvdGxpAw==";
t("sync round trips", () => [zlib.gunzipSync(zlib.gzipSync(text)).toString() === text, zlib.inflateSync(zlib.deflateSync(text)).toString() === text, zlib.inflateRawSync(zlib.deflateRawSync(text)).toString() === text, zlib.brotliDecompressSync(zlib.brotliCompressSync(text)).toString() === text, zlib.unzipSync(zlib.gzipSync("u")).toString(), zlib.unzipSync(zlib.deflateSync("v")).toString()]);
t("Node's own gzip and brotli output decompresses", () => [zlib.gunzipSync(Buffer.from(NODE_GZIP, "base64")).toString(), zlib.brotliDecompressSync(Buffer.from(NODE_BROTLI, "base64")).toString()]);
t("compression makes repetitive text small", () => [zlib.gzipSync(text).length < 100, zlib.brotliCompressSync(text).length < 60, zlib.gzipSync(text, { level: 1 }).length > 0, zlib.brotliCompressSync(text, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }).length < 100]);
t("constants", () => [zlib.constants.Z_BEST_COMPRESSION, zlib.constants.BROTLI_PARAM_QUALITY, zlib.Z_DEFAULT_COMPRESSION, zlib.constants.BROTLI_MAX_QUALITY]);
t("a corrupt input throws", () => { try { zlib.gunzipSync(Buffer.from("not gzip")); return "no throw"; } catch (e) { return e instanceof Error; } });
ta("callback forms", () => new Promise((resolve) => zlib.gzip(text, (err, gz) => zlib.gunzip(gz, (err2, out) => resolve([err, err2, out.toString() === text, Buffer.isBuffer(gz)])))));
ta("callback forms, brotli, through util.promisify", async () => { const { promisify } = require("util"); const c = await promisify(zlib.brotliCompress)(text); return (await promisify(zlib.brotliDecompress)(c)).toString() === text; });
ta("a corrupt input to a callback form is an error argument", () => new Promise((resolve) => zlib.inflate(Buffer.from("zz"), (err, out) => resolve([err instanceof Error, out]))));
ta("stream forms through pipeline", () => new Promise((resolve) => { const { Readable, Writable, pipeline } = require("stream"); const parts = []; pipeline(Readable.from([Buffer.from(text)]), zlib.createGzip(), zlib.createGunzip(), new Writable({ write(c, e, cb) { parts.push(c); cb(); } }), (err) => resolve([err ?? null, Buffer.concat(parts).toString() === text])); }));
