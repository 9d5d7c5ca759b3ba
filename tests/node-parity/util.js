// util beyond format: what npm code and functions reach for (inspect's output is left out).
const util = require("util");
t("format", () => [util.format("%s=%d %j %%", "a", 42, { b: 1 }), util.format("%i", 4.7), util.format("a", "b", 3)]);
t("promisify and callbackify", () => [typeof util.promisify((cb) => cb(null, 1))(), typeof util.callbackify(async () => 1)]);
t("inherits", () => { function A() {} A.prototype.hi = () => "hi"; function B() {} util.inherits(B, A); return [new B().hi(), B.super_ === A, new B() instanceof A]; });
t("isDeepStrictEqual", () => [
  util.isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }),
  util.isDeepStrictEqual({ a: 1 }, { a: "1" }),
  util.isDeepStrictEqual([1, 2], [1, 2, 3]),
  util.isDeepStrictEqual(new Date(1), new Date(1)),
  util.isDeepStrictEqual(new Map([["a", 1]]), new Map([["a", 1]])),
  util.isDeepStrictEqual(new Set([1]), new Set([2])),
  util.isDeepStrictEqual(NaN, NaN),
  util.isDeepStrictEqual(0, -0),
  util.isDeepStrictEqual(Buffer.from("a"), Buffer.from("a")),
  util.isDeepStrictEqual({}, []),
]);
t("types", () => { const T = util.types; return [T.isDate(new Date()), T.isRegExp(/a/), T.isPromise(Promise.resolve()), T.isMap(new Map()), T.isSet(new Set()), T.isTypedArray(new Uint8Array()), T.isTypedArray(new DataView(new ArrayBuffer(1))), T.isUint8Array(Buffer.from("a")), T.isArrayBuffer(new ArrayBuffer(1)), T.isAsyncFunction(async () => {}), T.isAsyncFunction(() => {}), T.isGeneratorFunction(function* () {}), T.isNativeError(new TypeError()), T.isBoxedPrimitive(Object(1))]; });
t("TextEncoder from util", () => [typeof util.TextEncoder, Array.from(new util.TextEncoder().encode("é")), new util.TextDecoder().decode(new Uint8Array([104, 105]))]);
t("deprecate wraps and calls", () => util.deprecate((a) => a * 2, "old")(21));
t("format with objects and extra arguments", () => [util.format("%s", { a: 1 }), util.format("%o", [1]), util.format("%d", "x"), util.format("%s %s", "only"), util.format(1, 2), util.format("%%s")]);
t("inspect of plain values", () => [util.inspect("s"), util.inspect(1), util.inspect(null), util.inspect(undefined), util.inspect(true), util.inspect(5n), util.inspect(Symbol("x"))]);
t("inspect of objects and arrays", () => [util.inspect({ a: 1, b: "two" }), util.inspect([1, 2, 3]), util.inspect({}), util.inspect([]), util.inspect({ "a-b": 1 })]);
ta("promisify resolves and rejects", async () => { const ok = util.promisify((x, cb) => cb(null, x * 2)); const bad = util.promisify((cb) => cb(new Error("nope"))); const r = await ok(21); try { await bad(); } catch (e) { return [r, e.message]; } });
ta("callbackify", () => new Promise((res) => util.callbackify(async (x) => x + 1)(1, (err, v) => res([err, v]))));
t("util.types on edge cases", () => [util.types.isDate(Date.now()), util.types.isPromise({ then() {} }), util.types.isRegExp("a")]);
