// node:fs — compiled the first time a function asks for it; see runtime.js "Node modules made
// on first use". A Lambda function sees its package read-only at /var/task and may write
// under /tmp; here /var/task is the package's files and /tmp lives in the isolate's memory
// (as a warm Lambda's /tmp outlives one call, and is gone with the sandbox). Anything else
// does not exist. Paths are relative to /var/task, the working directory.
((helpers) => {
  "use strict";
  const { Buffer, ops, path } = helpers;
  const tmp = new Map(); // absolute path → Buffer (a file) or null (a folder)
  tmp.set("/tmp", null);
  const fsError = (code, errno, syscall, p, text) => Object.assign(new Error(`${code}: ${text}, ${syscall} '${p}'`), { errno, code, syscall, path: p });
  const noent = (syscall, p) => fsError("ENOENT", -2, syscall, p, "no such file or directory");
  const absolute = (p) => {
    if (p instanceof URL) p = decodeURIComponent(p.pathname);
    else if (Buffer.isBuffer(p)) p = p.toString();
    if (typeof p !== "string") throw Object.assign(new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL. Received ${typeof p}`), { code: "ERR_INVALID_ARG_TYPE" });
    return path.resolve("/var/task", p);
  };
  const inTmp = (p) => p === "/tmp" || p.startsWith("/tmp/");
  // 1 a file, 2 a folder, 0 nothing.
  const kind = (p) => {
    if (inTmp(p)) return tmp.has(p) ? (tmp.get(p) === null ? 2 : 1) : 0;
    if (p === "/var/task" || p.startsWith("/var/task/")) return ops.op_edge_package_kind(p);
    return p === "/" || p === "/var" ? 2 : 0;
  };
  const encodingOf = (options) => (typeof options === "string" ? options : options?.encoding ?? null);
  const readFileSync = (file, options) => {
    const p = absolute(file);
    const k = kind(p);
    if (k === 2) throw fsError("EISDIR", -21, "read", p, "illegal operation on a directory");
    if (k === 0) throw noent("open", p);
    const bytes = inTmp(p) ? tmp.get(p) : Buffer.from(ops.op_edge_package_file(p));
    const enc = encodingOf(options);
    return enc ? bytes.toString(enc) : Buffer.from(bytes);
  };
  const writable = (p, syscall) => {
    if (!inTmp(p)) throw fsError("EROFS", -30, syscall, p, "read-only file system");
    if (kind(path.dirname(p)) !== 2) throw noent(syscall, p);
  };
  const writeFileSync = (file, data, options) => {
    const p = absolute(file);
    writable(p, "open");
    if (kind(p) === 2) throw fsError("EISDIR", -21, "open", p, "illegal operation on a directory");
    const bytes = typeof data === "string" ? Buffer.from(data, encodingOf(options) ?? "utf8") : Buffer.from(data);
    const flag = typeof options === "object" ? options?.flag : undefined;
    tmp.set(p, flag === "a" && tmp.get(p) ? Buffer.concat([tmp.get(p), bytes]) : bytes);
  };
  const appendFileSync = (file, data, options) => writeFileSync(file, data, { ...(typeof options === "string" ? { encoding: options } : options), flag: "a" });
  const readdirSync = (dir, options) => {
    const p = absolute(dir);
    const k = kind(p);
    if (k === 0) throw noent("scandir", p);
    if (k === 1) throw fsError("ENOTDIR", -20, "scandir", p, "not a directory");
    let entries;
    if (inTmp(p)) {
      const prefix = p + "/";
      entries = [...tmp.keys()].filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes("/")).map((f) => f.slice(prefix.length) + (tmp.get(f) === null ? "/" : "")).sort();
    } else if (p === "/" || p === "/var") {
      entries = p === "/" ? ["tmp/", "var/"] : ["task/"];
    } else {
      entries = ops.op_edge_package_dir(p);
    }
    if (options?.withFileTypes) {
      return entries.map((e) => {
        const dir = e.endsWith("/");
        const name = dir ? e.slice(0, -1) : e;
        return { name, path: p, parentPath: p, isFile: () => !dir, isDirectory: () => dir, isSymbolicLink: () => false };
      });
    }
    return entries.map((e) => (e.endsWith("/") ? e.slice(0, -1) : e));
  };
  const started = new Date(0);
  const statSync = (file, options) => {
    const p = absolute(file);
    const k = kind(p);
    if (k === 0) {
      if (options?.throwIfNoEntry === false) return undefined;
      throw noent("stat", p);
    }
    const size = k === 1 ? (inTmp(p) ? tmp.get(p).length : ops.op_edge_package_file(p).length) : 4096;
    const mode = k === 1 ? (inTmp(p) ? 0o100644 : 0o100444) : 0o40755;
    return {
      size, mode, uid: 993, gid: 990, nlink: 1, dev: 0, ino: 0, rdev: 0, blksize: 4096, blocks: Math.ceil(size / 512),
      atime: started, mtime: started, ctime: started, birthtime: started, atimeMs: 0, mtimeMs: 0, ctimeMs: 0, birthtimeMs: 0,
      isFile: () => k === 1, isDirectory: () => k === 2, isSymbolicLink: () => false, isFIFO: () => false, isSocket: () => false, isBlockDevice: () => false, isCharacterDevice: () => false,
    };
  };
  const existsSync = (file) => { try { return kind(absolute(file)) !== 0; } catch { return false; } };
  const F_OK = 0, R_OK = 4, W_OK = 2, X_OK = 1;
  const accessSync = (file, mode = F_OK) => {
    const p = absolute(file);
    if (kind(p) === 0) throw noent("access", p);
    if (mode & W_OK && !inTmp(p)) throw fsError("EROFS", -30, "access", p, "read-only file system");
  };
  const mkdirSync = (dir, options) => {
    const p = absolute(dir);
    if (!inTmp(p)) throw fsError("EROFS", -30, "mkdir", p, "read-only file system");
    if (options?.recursive) {
      let first;
      let at = "/tmp";
      for (const seg of p.slice(4).split("/").filter(Boolean)) {
        at += "/" + seg;
        const k = kind(at);
        if (k === 1) throw fsError("ENOTDIR", -20, "mkdir", p, "not a directory");
        if (k === 0) { tmp.set(at, null); first ??= at; }
      }
      return first;
    }
    writable(p, "mkdir");
    if (kind(p) !== 0) throw fsError("EEXIST", -17, "mkdir", p, "file already exists");
    tmp.set(p, null);
    return undefined;
  };
  const unlinkSync = (file) => {
    const p = absolute(file);
    if (!inTmp(p)) throw fsError("EROFS", -30, "unlink", p, "read-only file system");
    if (kind(p) === 0) throw noent("unlink", p);
    if (kind(p) === 2) throw fsError("EISDIR", -21, "unlink", p, "illegal operation on a directory");
    tmp.delete(p);
  };
  const rmSync = (file, options) => {
    const p = absolute(file);
    if (!inTmp(p) || p === "/tmp") throw fsError("EROFS", -30, "rm", p, "read-only file system");
    if (kind(p) === 0) { if (options?.force) return; throw noent("stat", p); }
    for (const k of [...tmp.keys()]) if (k === p || k.startsWith(p + "/")) tmp.delete(k);
  };
  const sync = { readFileSync, writeFileSync, appendFileSync, readdirSync, statSync, lstatSync: statSync, existsSync, accessSync, mkdirSync, unlinkSync, rmSync };
  // The callback and promise forms run the same work and answer on a later tick.
  const later = (f) => (...args) => {
    const cb = args.pop();
    if (typeof cb !== "function") throw Object.assign(new TypeError(`The "cb" argument must be of type function. Received ${typeof cb}`), { code: "ERR_INVALID_ARG_TYPE" });
    let out, failure = null;
    try { out = f(...args); } catch (e) { failure = e; }
    queueMicrotask(() => (failure ? cb(failure) : cb(null, out)));
  };
  const promised = (f) => async (...args) => f(...args);
  const fs = {
    ...sync,
    readFile: later(readFileSync), writeFile: later(writeFileSync), appendFile: later(appendFileSync), readdir: later(readdirSync),
    stat: later(statSync), lstat: later(statSync), access: later(accessSync), mkdir: later(mkdirSync), unlink: later(unlinkSync), rm: later(rmSync),
    exists: (file, cb) => queueMicrotask(() => cb(existsSync(file))),
    constants: { F_OK, R_OK, W_OK, X_OK },
    F_OK, R_OK, W_OK, X_OK,
  };
  fs.promises = {
    readFile: promised(readFileSync), writeFile: promised(writeFileSync), appendFile: promised(appendFileSync), readdir: promised(readdirSync),
    stat: promised(statSync), lstat: promised(statSync), access: promised(accessSync), mkdir: promised(mkdirSync), unlink: promised(unlinkSync), rm: promised(rmSync),
    constants: fs.constants,
  };
  return fs;
})
