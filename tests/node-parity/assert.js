// `assert` as functions and their tests use it: what passes, and what fails with which
// AssertionError (code, operator, actual, expected, message for primitives).
const assert = require("assert");
const err = (f) => { try { f(); return "no throw"; } catch (e) { return [e.name, e.code, e.operator, e.message, e.generatedMessage, e instanceof assert.AssertionError]; } };
t("passing assertions return undefined", () => [assert(1), assert.ok(true), assert.equal(1, "1"), assert.strictEqual(NaN, NaN), assert.deepEqual({ a: [1, "2"] }, { a: [1, 2] }), assert.deepStrictEqual(new Map([[1, { x: 1 }]]), new Map([[1, { x: 1 }]])), assert.notStrictEqual(1, "1"), assert.notDeepStrictEqual({ a: 1 }, { a: "1" }), assert.match("abc", /b/)]);
t("strictEqual of numbers", () => err(() => assert.strictEqual(1, 2)));
t("strictEqual of strings", () => err(() => assert.strictEqual("a", "b")));
t("strictEqual with a message", () => err(() => assert.strictEqual(1, 2, "one is not two")));
t("equal", () => err(() => assert.equal(1, 2)));
t("notEqual", () => err(() => assert.notEqual(1, "1")));
t("notStrictEqual", () => err(() => assert.notStrictEqual(5, 5)));
t("ok with a message", () => err(() => assert.ok(0, "must be truthy")));
t("ok with no argument", () => err(() => assert.ok()));
t("fail", () => [err(() => assert.fail()), err(() => assert.fail("boom"))]);
t("deepStrictEqual fails on types", () => err(() => assert.deepStrictEqual({ a: 1 }, { a: "1" }))[2]);
t("deepEqual fails on values", () => err(() => assert.deepEqual([1, 2], [1, 3]))[2]);
t("throws: passes for a matching error", () => [assert.throws(() => { throw new TypeError("x"); }, TypeError), assert.throws(() => { throw new Error("abc"); }, /abc/), assert.throws(() => { throw new Error("m"); }, { message: "m" })]);
t("throws: missing exception", () => err(() => assert.throws(() => {})));
t("throws: missing exception with a message", () => err(() => assert.throws(() => {}, Error, "should throw")));
t("doesNotThrow", () => err(() => assert.doesNotThrow(() => { throw new Error("oops"); })));
t("match fails", () => err(() => assert.match("abc", /x/)));
t("ifError", () => [assert.ifError(null), assert.ifError(undefined), err(() => assert.ifError(new Error("bad")))]);
t("an Error as the message is thrown itself", () => err(() => assert.strictEqual(1, 2, new RangeError("mine"))));
t("strict mode: equal is strictEqual", () => [err(() => require("assert").strict.equal(1, "1"))[2], typeof require("assert/strict"), require("assert/strict") === assert.strict]);
ta("rejects and doesNotReject", async () => { await assert.rejects(Promise.reject(new Error("r")), /r/); await assert.doesNotReject(Promise.resolve(1)); try { await assert.rejects(Promise.resolve(1)); return "no throw"; } catch (e) { return [e.code, e.message]; } });
