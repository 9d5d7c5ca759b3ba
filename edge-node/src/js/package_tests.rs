//! Packages through the runtime: Node's module rules inside a package (relative files,
//! `index.js`, JSON, `node_modules` with `main` and `exports`, `"type": "module"`, CommonJS ↔
//! ES module interop, the module cache, cycles), the handler setting, and the refusals.

use super::package::{pack, Handler};
use super::tests::{local, runner};
use super::*;
use std::collections::BTreeMap;

fn package(files: &[(&str, &str)], handler: &str) -> Result<Arc<FunctionCode>, String> {
    let files: BTreeMap<String, Bytes> = files
        .iter()
        .map(|(k, v)| (k.to_string(), Bytes::from(v.to_string())))
        .collect();
    let zip = pack(&files, &Handler::parse(handler)?)?;
    FunctionCode::from_bytes("pkg", 1, "pkg.zip", Bytes::from(zip)).map(Arc::new)
}

/// Loads the package on a thread of its own and calls its handler with `{}`.
fn call(files: &[(&str, &str)], handler: &str) -> Result<Value, String> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let handler = handler.to_string();
    std::thread::spawn(move || {
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let code = package(&files, &handler)?;
        local(async {
            let r = runner();
            r.load(&code).await.map_err(|e| e.to_string())?;
            r.invoke(
                &code,
                crate::lambda::Stage::ViewerRequest,
                "{}",
                "",
                "rid",
                None,
            )
            .await
            .map(|o| o.value)
            .map_err(|e| e.to_string())
        })
    })
    .join()
    .unwrap()
}

const LIB: &[(&str, &str)] = &[
    ("lib/util.js", "exports.twice = (x) => 2 * x; exports.loads = (exports.loads || 0) + 1;"),
    ("lib/config.json", "{\"greeting\": \"hi\"}"),
    ("lib/sub/index.js", "module.exports = { sub: require('../util').twice(21) };"),
    ("node_modules/cookie/package.json", "{\"name\":\"cookie\",\"main\":\"./dist/cookie\"}"),
    ("node_modules/cookie/dist/cookie.js", "exports.parse = (s) => Object.fromEntries(s.split('; ').map((p) => p.split('=')));"),
    ("node_modules/dual/package.json", "{\"name\":\"dual\",\"exports\":{\".\":{\"import\":\"./esm.mjs\",\"require\":\"./cjs.js\"},\"./feature\":\"./feature.js\"}}"),
    ("node_modules/dual/cjs.js", "exports.kind = 'cjs';"),
    ("node_modules/dual/esm.mjs", "export const kind = 'esm';"),
    ("node_modules/dual/feature.js", "module.exports = 'feature';"),
    ("node_modules/dual/secret.js", "module.exports = 'secret';"),
    ("node_modules/esm-only/package.json", "{\"type\":\"module\",\"main\":\"index.js\"}"),
    ("node_modules/esm-only/index.js", "export default 'esm-only';"),
];

fn with_lib(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    LIB.iter().chain(extra).copied().collect()
}

#[test]
fn commonjs_packages_resolve_as_node_does() {
    let v = call(
        &with_lib(&[(
            "index.js",
            "const u = require('./lib/util'); const u2 = require('./lib/util.js');\n\
             const cfg = require('./lib/config.json');\n\
             const { parse } = require('cookie');\n\
             exports.handler = async () => ({\n\
               twice: u.twice(4), cached: u === u2 && u.loads === 1, greeting: cfg.greeting,\n\
               sub: require('./lib/sub').sub, cookie: parse('a=1; b=2').b,\n\
               dual: require('dual').kind, feature: require('dual/feature'),\n\
               resolved: require.resolve('./lib/util'), path: require('path').join('a', 'b'),\n\
               filename: __filename, dirname: __dirname, inCache: Object.keys(require.cache).length > 3,\n\
             });",
        )]),
        "index.handler",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({
            "twice": 8, "cached": true, "greeting": "hi", "sub": 42, "cookie": "2",
            "dual": "cjs", "feature": "feature", "resolved": "/var/task/lib/util.js",
            "path": "a/b", "filename": "/var/task/index.js", "dirname": "/var/task", "inCache": true,
        })
    );
}

#[test]
fn es_module_packages_import_commonjs_and_json() {
    let v = call(
        &with_lib(&[
            ("package.json", "{\"type\":\"module\"}"),
            ("lib/package.json", "{\"type\":\"commonjs\"}"),
            (
                "src/app.js",
                "import { twice } from '../lib/util.js';\n\
                 import util from '../lib/util.js';\n\
                 import cfg from '../lib/config.json' with { type: 'json' };\n\
                 import { kind } from 'dual';\n\
                 import esmOnly from 'esm-only';\n\
                 import { parse } from 'cookie';\n\
                 import { join } from 'node:path';\n\
                 export const lambdaHandler = async () => ({ twice: twice(5), same: util.twice === twice, greeting: cfg.greeting, kind, esmOnly, cookie: parse('x=y').x, join: join('a', 'b'), url: import.meta.url });",
            ),
        ]),
        "src/app.lambdaHandler",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"twice": 10, "same": true, "greeting": "hi", "kind": "esm", "esmOnly": "esm-only", "cookie": "y", "join": "a/b", "url": "file:///var/task/src/app.js"})
    );
}

#[test]
fn cycles_see_partial_exports_as_in_node() {
    let v = call(
        &[
            ("a.js", "exports.loaded = false; const b = require('./b'); exports.fromB = b.sawA; exports.loaded = true;"),
            ("b.js", "const a = require('./a'); exports.sawA = a.loaded;"),
            ("index.js", "const a = require('./a'); exports.handler = async () => ({ fromB: a.fromB, loaded: a.loaded });"),
        ],
        "index.handler",
    )
    .unwrap();
    assert_eq!(v, json!({"fromB": false, "loaded": true}));
}

#[test]
fn the_handler_setting_picks_the_file_and_export() {
    let files = [
        ("index.js", "exports.handler = async () => 'index';"),
        (
            "app.mjs",
            "export const nested = { run: async () => 'nested' };",
        ),
    ];
    assert_eq!(call(&files, "index.handler").unwrap(), json!("index"));
    assert_eq!(call(&files, "app.nested.run").unwrap(), json!("nested"));
    let e = call(&files, "index.other").unwrap_err();
    assert!(
        e.contains("index.other is undefined or not exported"),
        "{e}"
    );
    let e = call(&files, "missing.handler").unwrap_err();
    assert!(e.contains("Cannot find module 'missing'"), "{e}");
}

#[test]
fn what_node_refuses_is_refused_with_node_s_message() {
    let cases: &[(&str, &str)] = &[
        ("require('./nope')", "Cannot find module './nope'\nRequire stack:\n- /var/task/index.js"),
        ("require('left-pad')", "Cannot find module 'left-pad'"),
        ("require('esm-only')", "require() of ES Module /var/task/node_modules/esm-only/index.js from /var/task/index.js not supported"),
        ("require('dual/secret.js')", "Package subpath './secret.js' is not defined by \"exports\""),
        ("require('child_process')", "Node's built-in 'child_process' is not available in this runtime"),
        ("require('./lib/bad.json')", "/var/task/lib/bad.json:"),
    ];
    for (expr, message) in cases {
        let src = format!("const x = {expr};\nexports.handler = async () => 1;");
        let files = with_lib(&[
            ("index.js", Box::leak(src.into_boxed_str())),
            ("lib/bad.json", "{nope"),
        ]);
        let e = call(&files, "index.handler").unwrap_err();
        assert!(e.contains(message), "{expr}: {e}");
    }
    // A module's error is placed in its own file, by path.
    let e = call(
        &[
            (
                "index.js",
                "require('./lib/broken');\nexports.handler = async () => 1;",
            ),
            ("lib/broken.js", "const a = 1;\nnull.x;\n"),
        ],
        "index.handler",
    )
    .unwrap_err();
    assert!(e.contains("/var/task/lib/broken.js:2"), "{e}");
}

#[test]
fn packages_are_checked_before_anyone_serves_them() {
    let zip = |files: &[(&str, &str)], handler: &str| {
        let files: BTreeMap<String, Bytes> = files
            .iter()
            .map(|(k, v)| (k.to_string(), Bytes::from(v.to_string())))
            .collect();
        Bytes::from(pack(&files, &Handler::parse(handler).unwrap()).unwrap())
    };
    let limit = Duration::from_secs(2);
    check_code(
        "ok.zip",
        zip(
            &[("index.js", "exports.handler = async () => 1;")],
            "index.handler",
        ),
        limit,
    )
    .unwrap();
    let e = check_code(
        "p.zip",
        zip(
            &[
                ("index.js", "require('./lib/a');\nexports.handler = 1;"),
                ("lib/a.js", "const x = 1;\nreturn 1 +;\n"),
            ],
            "index.handler",
        ),
        limit,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("lib/a.js:2:") && e.contains("SyntaxError") && e.contains("return 1 +;"),
        "{e}"
    );
    let e = check_code(
        "p.zip",
        zip(&[("index.js", "exports.other = 1;")], "index.handler"),
        limit,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("index.handler is undefined or not exported"),
        "{e}"
    );
    let e = check_code("p.zip", Bytes::from_static(b"PK\x03\x04not a zip"), limit)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a readable zip"), "{e}");
}

#[test]
fn fs_reads_the_package_and_writes_only_to_tmp() {
    let v = call(
        &[
            ("public/index.html", "<h1>hi</h1>"),
            ("public/app.js", "x"),
            ("data/a.json", "{}"),
            (
                "index.js",
                "const fs = require('fs'); const path = require('path');\n\
                 const err = (f) => { try { f(); return null; } catch (e) { return [e.code, e.message]; } };\n\
                 exports.handler = async () => {\n\
                   fs.mkdirSync('/tmp/cache/x', { recursive: true });\n\
                   fs.writeFileSync('/tmp/cache/x/n.txt', 'one');\n\
                   fs.appendFileSync('/tmp/cache/x/n.txt', '+two');\n\
                   return {\n\
                     html: fs.readFileSync(path.join(__dirname, 'public/index.html'), 'utf8'),\n\
                     relative: fs.readFileSync('public/app.js').length,\n\
                     exists: [fs.existsSync('/var/task/data/a.json'), fs.existsSync('nope')],\n\
                     list: fs.readdirSync('/var/task'), types: fs.readdirSync('public', { withFileTypes: true }).map((d) => d.name + ':' + d.isFile()),\n\
                     stat: [fs.statSync('public').isDirectory(), fs.statSync('public/index.html').size],\n\
                     tmp: fs.readFileSync('/tmp/cache/x/n.txt', 'utf8'), tmpList: fs.readdirSync('/tmp/cache'),\n\
                     missing: err(() => fs.readFileSync('/var/task/none.txt')),\n\
                     readOnly: err(() => fs.writeFileSync('index.js', 'x')),\n\
                     outside: err(() => fs.readFileSync('/etc/passwd')),\n\
                     promise: (await fs.promises.readFile('data/a.json', 'utf8')),\n\
                     callback: await new Promise((r) => fs.readFile('/var/task/public/app.js', 'utf8', (e, d) => r([e, d]))),\n\
                     esm: typeof require('fs/promises').readFile,\n\
                   };\n\
                 };",
            ),
        ],
        "index.handler",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({
            "html": "<h1>hi</h1>", "relative": 1, "exists": [true, false],
            "list": ["data", "index.js", "public"], "types": ["app.js:true", "index.html:true"],
            "stat": [true, 11], "tmp": "one+two", "tmpList": ["x"],
            "missing": ["ENOENT", "ENOENT: no such file or directory, open '/var/task/none.txt'"],
            "readOnly": ["EROFS", "EROFS: read-only file system, open '/var/task/index.js'"],
            "outside": ["ENOENT", "ENOENT: no such file or directory, open '/etc/passwd'"],
            "promise": "{}", "callback": [null, "x"], "esm": "function",
        })
    );
}
