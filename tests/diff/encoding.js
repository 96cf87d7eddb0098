import { Rec } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    const te = new TextEncoder();
    r.ck("encoder encoding", () => te.encoding);
    r.ck("encode", () => te.encode("aé€😀"));
    r.ck("encode lone surrogate", () => te.encode("\uD800x"));
    r.ck("encode undefined", () => te.encode());
    r.ck("encodeInto", () => {
      const buf = new Uint8Array(5);
      const res = te.encodeInto("aé€", buf);
      return [res, buf];
    });
    r.ck("encodeInto non-uint8", () => te.encodeInto("a", new Uint16Array(2)));
    for (const label of ["utf-8", " UTF8 ", "unicode-1-1-utf-8", "utf-16le", "utf-16", "UTF-16BE", "latin1", "iso-8859-1", "windows-1252", "ascii", "x-user-defined", "replacement", "bogus", "gbk", "shift_jis"]) {
      r.ck("label " + label, () => new TextDecoder(label).encoding);
    }
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9, 0xff, 0x21]);
    r.ck("decode default", () => new TextDecoder().decode(bytes));
    r.ck("decode ignoreBOM", () => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes));
    r.ck("decode fatal", () => new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    r.ck("fatal/ignoreBOM props", () => {
      const d = new TextDecoder("utf-8", { fatal: true });
      return [d.fatal, d.ignoreBOM, d.encoding];
    });
    r.ck("stream split", () => {
      const d = new TextDecoder();
      const a = d.decode(new Uint8Array([0xe2, 0x82]), { stream: true });
      const b = d.decode(new Uint8Array([0xac]), { stream: true });
      const c = d.decode();
      return [a, b, c];
    });
    r.ck("stream truncated end", () => {
      const d = new TextDecoder();
      return [d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }), d.decode()];
    });
    r.ck("utf-16le decode", () => new TextDecoder("utf-16le").decode(new Uint8Array([0x61, 0, 0x3d, 0xd8, 0x00, 0xde])));
    r.ck("latin1 decode", () => new TextDecoder("latin1").decode(new Uint8Array([0x41, 0x80, 0xe9, 0xff])));
    r.ck("decode ArrayBuffer", () => new TextDecoder().decode(new Uint8Array([0x6f, 0x6b]).buffer));
    r.ck("decode DataView", () => new TextDecoder().decode(new DataView(new Uint8Array([0x6f, 0x6b]).buffer)));
    r.ck("decode string arg", () => new TextDecoder().decode("abc"));
    r.ck("decode null", () => new TextDecoder().decode(null));
    r.ck("toStringTag", () => [Object.prototype.toString.call(te), Object.prototype.toString.call(new TextDecoder())]);
    r.ck("decoder proto keys", () => Object.getOwnPropertyNames(TextDecoder.prototype).sort());
    r.ck("encoder proto keys", () => Object.getOwnPropertyNames(TextEncoder.prototype).sort());
    return r.response();
  },
};
