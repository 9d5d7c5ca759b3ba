// path (POSIX) as SPA rewrites and routing functions use it. Cases that depend on the working
// directory (relative arguments to `resolve`) are left out: Lambda's is /var/task.
const P = require("path");
const each = (f, list) => list.map((x) => { try { return f(...[].concat(x)); } catch (e) { return "throws " + e.constructor.name + ": " + e.message; } });
const samples = ["", ".", "..", "/", "//", "///", "a", "a/", "/a", "/a/", "a/b", "/a/b/", "a//b", "/a//b", "./a", "../a", "a/./b", "a/../b", "a/b/../../..", "/..", "/../a", "/a/b/../../..", "index.html", "/index.html", "/dir/index.html", "/dir/", ".bashrc", "/x/.bashrc", "file.", "file..", "...", "a.b.c", "/a.b/c", "/a/b.c/", "/assets/app.min.js", "/images/photo.JPG", "/path/with space/f.txt", "/über/ß.md"];
t("normalize", () => each(P.normalize, samples));
t("dirname", () => each(P.dirname, samples));
t("basename", () => each(P.basename, samples));
t("basename with ext", () => each((p) => P.basename(p, ".html"), samples));
t("basename ext equal to base", () => [P.basename("aaa/bbb", "bbb"), P.basename("/a/b.js", "b.js"), P.basename("a.js", ".js"), P.basename("/dir/", "r")]);
t("extname", () => each(P.extname, samples));
t("parse", () => each(P.parse, samples));
t("isAbsolute", () => each(P.isAbsolute, samples));
t("join", () => [P.join("/a", "b", "../c"), P.join("a", "", "b"), P.join(""), P.join(), P.join("/", ".."), P.join("a/", "/b/"), P.join("/foo", "bar", "baz/asdf", "quux", "..")]);
t("resolve of absolute paths", () => [P.resolve("/foo/bar", "./baz"), P.resolve("/foo/bar", "/tmp/file/"), P.resolve("/a", "b", "..", "c/"), P.resolve("/")]);
t("relative", () => [P.relative("/data/orandea/test/aaa", "/data/orandea/impl/bbb"), P.relative("/a", "/a/b"), P.relative("/a/b", "/a"), P.relative("/", "/a"), P.relative("/a", "/a"), P.relative("/a/b/c", "/a/x/y")]);
t("format", () => [P.format({ root: "/ignored", dir: "/home/user/dir", base: "file.txt" }), P.format({ root: "/", base: "file.txt", ext: "ignored" }), P.format({ root: "/", name: "file", ext: ".txt" }), P.format({ name: "x", ext: "txt" }), P.format({ dir: "a" })]);
t("sep, delimiter, posix", () => [P.sep, P.delimiter, P.posix === P || P.posix.join === P.join, typeof require("node:path").join, require("path/posix").basename("/a/b")]);
t("wrong argument types", () => each(P.join, [[1], [null], [{}]]).concat(each(P.basename, [[undefined]])));
t("an SPA rewrite", () => ["/", "/about", "/about/", "/app.js", "/img/logo.svg", "/deep/link/page"].map((u) => (P.extname(u) === "" ? "/index.html" : u)));
