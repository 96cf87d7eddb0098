import { Rec } from "./prelude.js";

const codes = (s) => [...s].map((c) => c.codePointAt(0).toString(16)).join(" ");

// statusText past ASCII and past U+00FF: accepted or not, as read back, and
// (per path) on the wire.
export default {
  async fetch(request) {
    const r = new Rec();
    const texts = {
      latin1: "Tr\u00e8s bien",
      bmp: "\u65e5\u672c\u8a9e",
      emoji: "ok \u{1F600}",
      lone: "a\ud800b",
      nel: "a\u0085b",
      ls: "a\u2028b",
      del: "a\u007fb",
      tab: "a\tb",
      cr: "a\rb",
      empty: "",
    };
    for (const [k, t] of Object.entries(texts)) {
      r.ck(k, () => codes(new Response(null, { statusText: t }).statusText));
    }
    r.ck("number", () => new Response(null, { statusText: 12 }).statusText);
    r.ck("clone", () => codes(new Response(null, { statusText: texts.bmp }).clone().statusText));
    r.ck("copy", () => codes(new Response(null, new Response(null, { statusText: texts.bmp })).statusText));
    const url = new URL(request.url);
    const which = url.searchParams.get("t");
    if (which !== null) {
      return new Response(JSON.stringify(r.o), { status: 299, statusText: texts[which] });
    }
    return r.response();
  },
};
