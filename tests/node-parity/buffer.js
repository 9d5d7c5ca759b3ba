// Buffer as Lambda@Edge code uses it, including the legacy constructor (DEP0005).
t("new Buffer(string, 'base64')", () => new Buffer("dXNlcjpwYXNz", "base64").toString());
t("new Buffer(string).toString('base64')", () => new Buffer("user:pass").toString("base64"));
t("Buffer(string) without new", () => Buffer("abc").toString("hex"));
t("new Buffer(number) is zero-filled", () => Array.from(new Buffer(3)));
t("Buffer(number) without new", () => Buffer(2).length);
t("new Buffer(array)", () => new Buffer([104, 105]).toString());
t("new Buffer(buffer) copies", () => { const a = Buffer.from("x"); const b = new Buffer(a); b[0] = 121; return [a.toString(), b.toString()]; });
t("Buffer(number, encoding) throws", () => Buffer(3, "utf8"));
t("instanceof and isBuffer", () => [Buffer.from("a") instanceof Buffer, new Buffer("a") instanceof Buffer, new Buffer("a") instanceof Uint8Array, Buffer.isBuffer(Buffer("a")), Buffer.isBuffer(new Uint8Array(1))]);
t("the constructor and its prototype", () => [Buffer.prototype.constructor === Buffer, Object.getPrototypeOf(Buffer) === Uint8Array, Object.getPrototypeOf(Buffer.prototype) === Uint8Array.prototype, Buffer.name, typeof Buffer]);
t("Buffer.from then toString, every encoding", () => ["utf8", "hex", "base64", "base64url", "latin1", "binary", "ascii"].map((e) => Buffer.from("héllo wörld/+?", "utf8").toString(e)));
t("base64 round trip of a basic-auth header", () => { const h = "Basic " + Buffer.from("user:pa:ss").toString("base64"); return Buffer.from(h.split(" ")[1], "base64").toString().split(":"); });
t("concat, slice, equals, compare", () => { const c = Buffer.concat([Buffer.from("ab"), Buffer.from("cd")]); return [c.toString(), c.slice(1, 3).toString(), c.equals(Buffer.from("abcd")), Buffer.compare(Buffer.from("a"), Buffer.from("b"))]; });
t("byteLength", () => [Buffer.byteLength("héllo"), Buffer.byteLength("aGk=", "base64")]);
t("JSON of a buffer", () => JSON.stringify(Buffer.from("hi")));
