// Hashes, HMACs and random values, as signed cookies, cache keys and tokens use them.
const crypto = require("crypto");
t("digests of every algorithm, hex and base64", () => ["md5", "sha1", "sha256", "sha384", "sha512"].map((a) => [crypto.createHash(a).update("abc").digest("hex"), crypto.createHash(a).update("abc").digest("base64")]));
t("update in parts and with encodings", () => [crypto.createHash("sha256").update("a").update("bc").digest("hex") === crypto.createHash("sha256").update("abc").digest("hex"), crypto.createHash("sha256").update("616263", "hex").digest("hex") === crypto.createHash("sha256").update("abc").digest("hex")]);
t("digest with no encoding is a Buffer", () => { const d = crypto.createHash("sha1").update("x").digest(); return [Buffer.isBuffer(d), d.length]; });
t("digest twice throws", () => { const h = crypto.createHash("sha256"); h.digest(); h.digest(); });
t("an unknown digest", () => crypto.createHash("sha999"));
t("HMACs", () => [crypto.createHmac("sha256", "key").update("msg").digest("hex"), crypto.createHmac("sha1", Buffer.from("k")).update("m").digest("base64"), crypto.createHmac("sha512", "").update("").digest("hex").length]);
t("base64url digests (JWT HS256 by hand)", () => crypto.createHmac("sha256", "secret").update("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0").digest("base64url"));
t("randomBytes and randomUUID have the right shape", () => [crypto.randomBytes(16).length, Buffer.isBuffer(crypto.randomBytes(4)), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()), crypto.randomBytes(8).equals(crypto.randomBytes(8))]);
t("timingSafeEqual", () => [crypto.timingSafeEqual(Buffer.from("abc"), Buffer.from("abc")), crypto.timingSafeEqual(Buffer.from("abc"), Buffer.from("abd"))]);
t("timingSafeEqual of different lengths throws", () => crypto.timingSafeEqual(Buffer.from("a"), Buffer.from("ab")));
t("getRandomValues fills the array", () => { const a = new Uint8Array(8); const r = crypto.getRandomValues(a); return [r === a, a.length, typeof globalThis.crypto.getRandomValues]; });
t("an unknown HMAC digest", () => crypto.createHmac("sha999", "k"));
t("update after digest throws", () => { const h = crypto.createHash("md5"); h.digest(); h.update("x"); });
