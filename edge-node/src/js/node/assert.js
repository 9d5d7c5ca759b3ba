// node:assert — compiled the first time a function asks for it (not in every isolate), from
// the runtime's own helpers; see runtime.js "Node modules made on first use".
((helpers) => {
  "use strict";
  const { inspect, deepEqual } = helpers;
  // ---- assert: Node's assertion functions; AssertionError carries actual, expected,
  // operator and code ERR_ASSERTION. Messages for primitives are Node's; for objects Node
  // prints a diff, here both values inspected.
  const looseEqual = (a, b) => {
    // eslint-disable-next-line eqeqeq
    if (a == b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
    if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp && b instanceof RegExp) return String(a) === String(b);
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && looseEqual(a[k], b[k]));
  };
  const show = (v) => (typeof v === "string" ? `'${v}'` : inspect(v, 1));
  class AssertionError extends Error {
    constructor(options = {}) {
      super(options.message);
      this.name = "AssertionError";
      this.generatedMessage = !options.userMessage;
      this.code = "ERR_ASSERTION";
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator;
    }
  }
  const failWith = (message, actual, expected, operator, generated, userMessage = message !== undefined) => {
    if (message instanceof Error) throw message;
    throw new AssertionError({ message: message ?? generated, userMessage, actual, expected, operator });
  };
  const simpleValue = (v) => v === null || (typeof v !== "object" && typeof v !== "function");
  const compareMessage = (head, actual, expected, sep) => {
    const simple = (v) => v === null || (typeof v !== "object" && typeof v !== "function");
    if (simple(actual) && simple(expected)) return `${head}:\n\n${show(actual)} ${sep} ${show(expected)}\n`;
    return `${head}:\n+ actual - expected\n\n+ ${show(actual)}\n- ${show(expected)}`;
  };
  function assert(value, message) { if (!value) failWith(message, value, true, "==", arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value"); }
  const matches = (err, expected) => {
    if (expected === undefined) return true;
    if (expected instanceof RegExp) return expected.test(String(err));
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && err instanceof expected) return true;
      if (Error.isPrototypeOf(expected) || expected === Error) return false;
      return expected.call({}, err) === true;
    }
    if (typeof expected === "object" && expected !== null) return Object.keys(expected).every((k) => expected[k] instanceof RegExp && typeof err[k] === "string" ? expected[k].test(err[k]) : deepEqual(err[k], expected[k]));
    return false;
  };
  Object.assign(assert, {
    ok: function ok(value, message) { if (!value) failWith(message, value, true, "==", arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value"); },
    equal: (a, b, m) => { if (!(a == b || (Number.isNaN(a) && Number.isNaN(b)))) failWith(m, a, b, "==", `${show(a)} == ${show(b)}`); },
    notEqual: (a, b, m) => { if (a == b || (Number.isNaN(a) && Number.isNaN(b))) failWith(m, a, b, "!=", `${show(a)} != ${show(b)}`); },
    strictEqual: (a, b, m) => {
      if (Object.is(a, b)) return;
      // Node adds the comparison to a message of the caller's.
      const msg = typeof m === "string" && simpleValue(a) && simpleValue(b) ? `${m}\n\n${show(a)} !== ${show(b)}\n` : m;
      failWith(msg, a, b, "strictEqual", compareMessage("Expected values to be strictly equal", a, b, "!=="), m !== undefined);
    },
    notStrictEqual: (a, b, m) => { if (Object.is(a, b)) failWith(m, a, b, "notStrictEqual", `Expected "actual" to be strictly unequal to: ${show(b)}`); },
    deepEqual: (a, b, m) => { if (!looseEqual(a, b)) failWith(m, a, b, "deepEqual", compareMessage("Expected values to be loosely deep-equal", a, b, "!=")); },
    notDeepEqual: (a, b, m) => { if (looseEqual(a, b)) failWith(m, a, b, "notDeepEqual", `Expected "actual" not to be loosely deep-equal to: ${show(b)}`); },
    deepStrictEqual: (a, b, m) => { if (!deepEqual(a, b)) failWith(m, a, b, "deepStrictEqual", compareMessage("Expected values to be strictly deep-equal", a, b, "!==")); },
    notDeepStrictEqual: (a, b, m) => { if (deepEqual(a, b)) failWith(m, a, b, "notDeepStrictEqual", `Expected "actual" not to be strictly deep-equal to: ${show(b)}`); },
    fail: (m) => failWith(m === undefined ? undefined : m, undefined, undefined, "fail", "Failed"),
    match: (s, re, m) => { if (typeof s !== "string" || !re.test(s)) failWith(m, s, re, "match", `The input did not match the regular expression ${re}. Input:\n\n${show(s)}\n`); },
    doesNotMatch: (s, re, m) => { if (typeof s === "string" && re.test(s)) failWith(m, s, re, "doesNotMatch", `The input was expected to not match the regular expression ${re}. Input:\n\n${show(s)}\n`); },
    throws: (fn, expected, m) => {
      if (typeof expected === "string") { m = expected; expected = undefined; }
      try { fn(); } catch (e) {
        if (!matches(e, expected)) { if (typeof expected === "function" && (expected === Error || Error.isPrototypeOf(expected))) throw e; failWith(m, e, expected, "throws", `The error is expected to be an instance of "${expected?.name}". Received "${e?.constructor?.name}"`); }
        return;
      }
      failWith(undefined, undefined, expected, "throws", `Missing expected exception${expected?.name ? ` (${expected.name})` : ""}${m ? `: ${m}` : "."}`, true);
    },
    doesNotThrow: (fn, m) => { try { fn(); } catch (e) { failWith(undefined, e, undefined, "doesNotThrow", `Got unwanted exception${typeof m === "string" ? `: ${m}` : "."}\nActual message: "${e && e.message}"`, true); } },
    rejects: async (p, expected, m) => {
      if (typeof expected === "string") { m = expected; expected = undefined; }
      try { await (typeof p === "function" ? p() : p); } catch (e) {
        if (!matches(e, expected)) throw e;
        return;
      }
      failWith(undefined, undefined, expected, "rejects", `Missing expected rejection${expected?.name ? ` (${expected.name})` : ""}${m ? `: ${m}` : "."}`, true);
    },
    doesNotReject: async (p, m) => { try { await (typeof p === "function" ? p() : p); } catch (e) { failWith(undefined, e, undefined, "doesNotReject", `Got unwanted rejection${typeof m === "string" ? `: ${m}` : "."}\nActual message: "${e && e.message}"`, true); } },
    ifError: (v) => { if (v !== null && v !== undefined) { if (v instanceof Error) { const e = new AssertionError({ message: `ifError got unwanted exception: ${v.message}`, userMessage: true, actual: v, expected: null, operator: "ifError" }); throw e; } failWith(undefined, v, null, "ifError", `ifError got unwanted exception: ${show(v)}`, true); } },
    AssertionError,
  });
  assert.strict = Object.assign(function strict(v, m) { return assert.ok(v, m); }, assert, { equal: assert.strictEqual, notEqual: assert.notStrictEqual, deepEqual: assert.deepStrictEqual, notDeepEqual: assert.notDeepStrictEqual });
  assert.strict.strict = assert.strict;
  return assert;
})
