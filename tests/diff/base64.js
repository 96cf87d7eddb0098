import { Rec } from "./prelude.js";

export default {
  async fetch(request) {
    const r = new Rec();
    const q = new URL(request.url).searchParams.get("s");
    if (q !== null) {
      r.ck("btoa query", () => btoa(q));
      r.ck("atob query", () => atob(q));
    }
    r.ck("btoa", () => btoa("hello\u00ff"));
    r.ck("btoa wide", () => btoa("€"));
    r.ck("btoa undefined", () => btoa(undefined));
    r.ck("btoa null", () => btoa(null));
    r.ck("btoa no args", () => btoa());
    r.ck("atob", () => atob("aGVsbG8="));
    r.ck("atob no padding", () => atob("aGVsbG8"));
    r.ck("atob whitespace", () => atob(" aGVs\nbG8= "));
    r.ck("atob bad char", () => atob("a*b="));
    r.ck("atob bad length", () => atob("abcde"));
    r.ck("atob bad padding", () => atob("ab=c"));
    r.ck("atob url-safe", () => atob("-_=="));
    r.ck("atob empty", () => atob(""));
    r.ck("atob high bytes", () => [...atob("/+8=")].map((c) => c.charCodeAt(0)));
    r.ck("atob number", () => atob(1234));
    return r.response();
  },
};
