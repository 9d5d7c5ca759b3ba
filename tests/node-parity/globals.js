// Globals Lambda code reaches for: structuredClone, process (its shape: the values of its
// environment are Lambda's, not this machine's, so only their types are compared).
t("structuredClone of plain data", () => structuredClone({ a: [1, { b: "c" }], n: null, s: "x", d: 1.5, t: true }));
t("structuredClone keeps Date, RegExp, Map, Set", () => { const c = structuredClone({ d: new Date(0), r: /a+/gi, m: new Map([["k", 1]]), s: new Set([1, 2]) }); return [c.d instanceof Date, c.d.getTime(), String(c.r), c.m.get("k"), [...c.s]]; });
t("structuredClone keeps cycles", () => { const o = { name: "o" }; o.self = o; const c = structuredClone(o); return [c.self === c, c !== o, c.name]; });
t("structuredClone copies buffers", () => { const u = new Uint8Array([1, 2, 3]); const c = structuredClone(u); c[0] = 9; return [u[0], c[0], c instanceof Uint8Array]; });
t("structuredClone drops prototypes and functions' absence", () => { class A { constructor() { this.x = 1; } m() {} } const c = structuredClone(new A()); return [c.x, c instanceof A, Object.getPrototypeOf(c) === Object.prototype]; });
t("structuredClone refuses a function", () => { try { structuredClone({ f() {} }); return "cloned"; } catch (e) { return e.name; } });
t("structuredClone of a Lambda@Edge request", () => structuredClone({ uri: "/a", headers: { host: [{ key: "Host", value: "x" }] } }));
t("process shape", () => [typeof process, typeof process.env, typeof process.nextTick, typeof process.hrtime, typeof process.hrtime.bigint(), Array.isArray(process.hrtime()), process.hrtime().length, typeof process.memoryUsage().heapUsed, typeof process.uptime(), process.platform, typeof process.version, process.version.startsWith("v"), typeof process.versions.node, typeof process.cwd()]);
t("process.nextTick runs its callback with its arguments", () => typeof process.nextTick(() => {}, 1, 2));
t("require('process') is the global", () => require("process") === process);
t("process.env values are strings or absent", () => Object.values(process.env).every((v) => typeof v === "string"));
t("os: the fields Lambda code reads", () => { const os = require("os"); return [os.EOL, os.platform(), os.type(), os.arch(), os.endianness(), os.tmpdir(), typeof os.hostname(), typeof os.cpus()[0].model, os.totalmem() > 0, Array.isArray(os.loadavg()), typeof os.userInfo().username, require("node:os") === os]; });
t("AbortController and AbortSignal", () => { const c = new AbortController(); const seen = []; c.signal.addEventListener("abort", (e) => seen.push(e.type)); c.signal.onabort = () => seen.push("onabort"); const before = c.signal.aborted; c.abort("why"); c.abort("again"); return [before, c.signal.aborted, c.signal.reason, seen, AbortSignal.abort().reason.name, String(Object.prototype.toString.call(c.signal))]; });
t("throwIfAborted", () => { const c = new AbortController(); c.abort(new Error("stop")); c.signal.throwIfAborted(); });
t("a Request", () => { const r = new Request("https://example.com/a?b=1", { method: "post", headers: { "X-A": "1" }, body: "x" }); return [r.url, r.method, r.headers.get("x-a"), typeof r.clone, new Request(r).method]; });
t("a GET Request with a body", () => new Request("https://example.com/", { body: "x" }));
t("StringDecoder keeps a split character for the next write", () => { const { StringDecoder } = require("string_decoder"); const d = new StringDecoder("utf8"); const euro = Buffer.from("€"); return [d.write(euro.subarray(0, 1)), d.write(euro.subarray(1, 2)), d.write(euro.subarray(2)), d.end(), new StringDecoder("utf8").end(Buffer.from([0xe2, 0x82])).length, new StringDecoder("hex").write(Buffer.from("hi"))]; });
t("process basics", () => [typeof process.version, process.version.startsWith("v"), typeof process.versions.node, process.platform, typeof process.hrtime.bigint(), process.hrtime().length, typeof process.uptime(), typeof process.memoryUsage().heapUsed, typeof process.nextTick]);
ta("process.nextTick runs before promise callbacks scheduled after it", () => new Promise((res) => { const order = []; process.nextTick(() => order.push("tick")); Promise.resolve().then(() => order.push("promise")); setTimeout(() => res(order), 0); }));
// The timer is long: Node runs a short one before an immediate when its loop starts late (on a
// loaded machine 5 ms sufficed), which made the oracle, not us, change its answer.
ta("timers: setTimeout, setImmediate, clearTimeout order", () => new Promise((res) => { const order = []; const t1 = setTimeout(() => order.push("cleared"), 0); clearTimeout(t1); setTimeout(() => order.push("timeout"), 100); setImmediate(() => order.push("immediate")); setTimeout(() => res(order), 150); }));
t("structuredClone of nested values", () => { const o = { d: new Date(0), m: new Map([[1, { x: [1] }]]), s: new Set(["a"]), r: /x/g }; const c = structuredClone(o); return [c.d.getTime(), c.m.get(1).x, [...c.s], String(c.r), c.m.get(1) !== o.m.get(1)]; });
t("structuredClone of a function throws", () => structuredClone(() => 1));
t("TextEncoder and TextDecoder round trip", () => [new TextDecoder().decode(new TextEncoder().encode("héllo €")), new TextEncoder().encode("€").length]);
t("atob and btoa", () => [btoa("hello"), atob("aGVsbG8="), (() => { try { return btoa("€"); } catch (e) { return e.name; } })()]);
