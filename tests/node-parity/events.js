// EventEmitter as npm code and functions use it.
const EventEmitter = require("events");
t("on, emit, arguments and this", () => { const e = new EventEmitter(); const got = []; e.on("x", function (a, b) { got.push([a, b, this === e]); }); return [e.emit("x", 1, 2), e.emit("y"), got]; });
t("once fires once", () => { const e = new EventEmitter(); let n = 0; e.once("x", () => n++); e.emit("x"); e.emit("x"); return [n, e.listenerCount("x")]; });
t("order, prepend, off", () => { const e = new EventEmitter(); const got = []; const a = () => got.push("a"); e.on("x", a); e.on("x", () => got.push("b")); e.prependListener("x", () => got.push("p")); e.emit("x"); e.off("x", a); e.emit("x"); return got; });
t("listeners, eventNames, removeAllListeners", () => { const e = new EventEmitter(); const f = () => {}; e.on("a", f); e.on("b", f); const before = [e.eventNames(), e.listeners("a").length]; e.removeAllListeners("a"); const mid = e.eventNames(); e.removeAllListeners(); return [before, mid, e.eventNames()]; });
t("an error event without a listener throws it", () => { const e = new EventEmitter(); try { e.emit("error", new Error("boom")); return "no"; } catch (x) { return x.message; } });
t("an error event with a listener does not throw", () => { const e = new EventEmitter(); let m; e.on("error", (x) => { m = x.message; }); return [e.emit("error", new Error("handled")), m]; });
t("a non-function listener is refused", () => { try { new EventEmitter().on("x", 1); return "no"; } catch (x) { return [x.name, x.code]; } });
t("max listeners", () => { const e = new EventEmitter(); const d = e.getMaxListeners(); e.setMaxListeners(3); return [d, e.getMaxListeners(), EventEmitter.defaultMaxListeners]; });
t("the module's shape", () => [typeof EventEmitter, EventEmitter.EventEmitter === EventEmitter, typeof EventEmitter.once, typeof require("node:events").EventEmitter]);
t("subclassing", () => { class Job extends EventEmitter { run() { this.emit("done", 42); } } const j = new Job(); let v; j.on("done", (x) => { v = x; }); j.run(); return [v, j instanceof EventEmitter]; });
t("newListener and removeListener events", () => { const e = new EventEmitter(); const seen = []; e.on("newListener", (n) => seen.push("new:" + n)); e.on("removeListener", (n) => seen.push("rm:" + n)); const f = () => {}; e.on("x", f); e.off("x", f); return seen; });
