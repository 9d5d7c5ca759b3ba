// node:string_decoder — compiled the first time a function asks for it; see runtime.js "Node modules
// made on first use".
((helpers) => {
  "use strict";
  const { Buffer, normEnc, toBytes } = helpers;
  // Node's StringDecoder: a UTF-8 (or UTF-16) character split across writes waits for the rest.
  class StringDecoder {
    #pending = new Uint8Array(0);
    constructor(encoding = "utf8") {
      const e = normEnc(encoding);
      if (!Buffer.isEncoding(e)) throw Object.assign(new TypeError(`Unknown encoding: ${encoding}`), { code: "ERR_UNKNOWN_ENCODING" });
      this.encoding = e === "binary" ? "latin1" : e === "ucs2" ? "utf16le" : e;
    }
    write(buf) {
      if (typeof buf === "string") return buf;
      let bytes = Buffer.concat([this.#pending, toBytes(buf)]);
      let keep = 0;
      if (this.encoding === "utf8") {
        // Hold back a trailing sequence that is not complete yet.
        for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
          const b = bytes[i];
          if ((b & 0xc0) === 0x80) continue;
          const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
          if (bytes.length - i < need) keep = bytes.length - i;
          break;
        }
      } else if (this.encoding === "utf16le") keep = bytes.length % 2;
      else if (this.encoding === "base64") keep = bytes.length % 3;
      this.#pending = bytes.slice(bytes.length - keep);
      return bytes.subarray(0, bytes.length - keep).toString(this.encoding);
    }
    end(buf) {
      let out = buf === undefined ? "" : this.write(buf);
      if (this.#pending.length) { out += Buffer.from(this.#pending).toString(this.encoding); this.#pending = new Uint8Array(0); }
      return out;
    }
  }
  return { StringDecoder };
})
