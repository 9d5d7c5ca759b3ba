// URL, URLSearchParams and the legacy url.parse/format, as rewrites and redirects use them.
const url = require("url");
const parts = (u) => [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin];
t("WHATWG URL parts", () => parts(new URL("https://user:pw@Example.COM:8443/a/b/../c?x=1&y=%20#frag")));
t("a relative URL against a base", () => [new URL("../d?q", "https://e.com/a/b/c").href, new URL("/root", "https://e.com/a/b").href, new URL("//other.com/x", "https://e.com").href]);
t("default ports are dropped", () => [new URL("https://e.com:443/").host, new URL("http://e.com:80/").port, new URL("http://e.com:8080/").port]);
t("an invalid URL throws TypeError", () => new URL("not a url"));
t("URL.canParse", () => [URL.canParse("https://e.com"), URL.canParse("nope"), URL.canParse("/x", "https://e.com")]);
t("setters", () => { const u = new URL("https://e.com/a?b=1"); u.pathname = "/x y"; u.search = "c=2"; u.hash = "h"; u.port = "8080"; u.hostname = "F.com"; return u.href; });
t("non-ASCII paths and hosts", () => [new URL("https://e.com/ü/€").pathname, new URL("https://bücher.de/").hostname]);
t("searchParams reads", () => { const p = new URL("https://e.com/?a=1&b=2&a=3&c=%2B+x").searchParams; return [p.get("a"), p.getAll("a"), p.get("c"), p.has("b"), p.get("zz"), p.size, [...p.keys()]]; });
t("searchParams writes update the URL", () => { const u = new URL("https://e.com/p?b=2&a=1"); u.searchParams.append("c", "x y"); u.searchParams.set("b", "9"); u.searchParams.delete("a"); u.searchParams.sort(); return [u.search, u.href]; });
t("URLSearchParams from an object, entries and a string", () => [new URLSearchParams({ a: "1", b: "x&y" }).toString(), new URLSearchParams([["k", "v"], ["k", "w"]]).toString(), new URLSearchParams("?q=%E2%82%AC&empty=&flag").toString()]);
t("URLSearchParams encodes as a form", () => new URLSearchParams({ s: "a b+c/d?e=f&g~h*i'j(k)l!" }).toString());
t("URL toString and JSON", () => { const u = new URL("https://e.com/a"); return [String(u), JSON.stringify({ u })]; });
t("legacy url.parse of a full URL", () => { const p = url.parse("https://user:pw@Example.com:8080/p/a/t/h?query=string#hash"); return [p.protocol, p.slashes, p.auth, p.host, p.port, p.hostname, p.hash, p.search, p.query, p.pathname, p.path, p.href]; });
t("legacy url.parse with the query parsed", () => { const q = url.parse("/path?a=1&b=2&a=3", true).query; return [q.a, q.b]; });
t("legacy url.parse of a path only", () => { const p = url.parse("/only/path?x=1"); return [p.protocol, p.host, p.pathname, p.search, p.query, p.path]; });
t("legacy url.format", () => [url.format({ protocol: "https", hostname: "e.com", pathname: "/a", query: { b: "1", c: "x y" } }), url.format({ protocol: "http:", host: "e.com:81", pathname: "/p", search: "?q=1", hash: "#h" }), url.format(new URL("https://e.com/z"))]);
