// querystring, as query-string normalizing functions use it.
const qs = require("querystring");
t("parse", () => [qs.parse("a=1&b=2&a=3"), qs.parse("x=%20y&z=a+b&e=&f"), qs.parse(""), qs.parse("a=1;b=2", ";"), qs.parse("a:1,b:2", ",", ":")]);
t("parse keeps only own keys (no prototype)", () => { const p = qs.parse("constructor=1&__proto__=2"); return [Object.getPrototypeOf(p), p.constructor, Object.keys(p)]; });
t("stringify", () => [qs.stringify({ a: 1, b: [2, 3], c: "x y", d: true, e: null, f: undefined, g: NaN }), qs.stringify({ w: "ü€" }), qs.stringify({ a: 1, b: 2 }, ";", ":"), qs.stringify("nope")]);
t("escape and unescape", () => [qs.escape("a b&c=d/é!'()*~"), qs.unescape("a%20b%ZZ"), qs.unescape("%E2%82%AC")]);
t("decode and encode are the same functions", () => [qs.decode === qs.parse, qs.encode === qs.stringify]);
t("sorting a query the way normalize-query does", () => { const p = qs.parse("b=2&A=1&utm_source=x"); const keys = Object.keys(p).filter((k) => !k.startsWith("utm_")).map((k) => k.toLowerCase()).sort(); return keys.map((k) => k + "=" + (p[k] ?? p[k.toUpperCase()])).join("&"); });
t("malformed percent escapes", () => [qs.parse("a=%E2%82"), qs.parse("%ZZ=1")]);
