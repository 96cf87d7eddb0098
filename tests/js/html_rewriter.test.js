import { test, assert, assertEquals, assertThrows, assertRejects, suite } from "./harness.js";

// A stream that hands out `html` in chunks of `size` bytes, one per pull.
function chunked(html, size) {
  const bytes = new TextEncoder().encode(html);
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= bytes.length) return c.close();
      c.enqueue(bytes.slice(i, i + size));
      i += size;
    },
  });
}

async function rewrite(html, setup, chunkSize = 0) {
  const body = chunkSize ? chunked(html, chunkSize) : html;
  const res = setup(new HTMLRewriter()).transform(new Response(body, { headers: { "content-type": "text/html" } }));
  return res.text();
}

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

test("element attributes: get, has, set, remove, iterate", async () => {
  const seen = [];
  const out = await rewrite('<a href="/x" class="c">t</a>', (rw) =>
    rw.on("a", {
      element(el) {
        seen.push(el.getAttribute("href"), el.hasAttribute("class"), el.hasAttribute("id"), el.getAttribute("id"));
        seen.push([...el.attributes]);
        assert(el.setAttribute("href", "/y") === el, "setAttribute returns the element");
        assert(el.removeAttribute("class") === el, "removeAttribute returns the element");
        el.setAttribute("data-q", 'a"b<');
        seen.push(el.getAttribute("href"), el.hasAttribute("class"));
      },
    }),
  );
  assertEquals(out, '<a href="/y" data-q="a&quot;b<">t</a>');
  assertEquals(seen, ["/x", true, false, null, [["href", "/x"], ["class", "c"]], "/y", false]);
});

test("element properties: tagName, namespaceURI, selfClosing, canHaveContent, removed", async () => {
  const seen = [];
  const out = await rewrite('<div>x</div><img src="i" /><svg><path/></svg><br>', (rw) =>
    rw.on("div, img, svg, path, br", {
      element(el) {
        seen.push([el.tagName, el.namespaceURI, el.selfClosing, el.canHaveContent, el.removed]);
        if (el.tagName === "div") el.tagName = "section";
        if (el.tagName === "br") {
          el.remove();
          seen.push(el.removed);
        }
      },
    }),
  );
  assertEquals(out, '<section>x</section><img src="i" /><svg><path/></svg>');
  const html = "http://www.w3.org/1999/xhtml";
  const svg = "http://www.w3.org/2000/svg";
  assertEquals(seen, [
    ["div", html, false, true, false],
    ["img", html, true, false, false],
    ["svg", svg, false, true, false],
    ["path", svg, true, false, false],
    ["br", html, false, false, false],
    true,
  ]);
});

test("element content mutations escape text and keep html", async () => {
  const out = await rewrite("<p>old</p><div>d</div>", (rw) =>
    rw
      .on("p", {
        element(el) {
          el.before("<b>&</b>");
          el.after("<i>after</i>", { html: true });
          el.prepend("<pre>", { html: false });
          el.append("<em>app</em>", { html: true });
        },
      })
      .on("div", {
        element(el) {
          el.setInnerContent("<u>in</u>", { html: true });
        },
      }),
  );
  assertEquals(out, "&lt;b&gt;&amp;&lt;/b&gt;<p>&lt;pre&gt;old<em>app</em></p><i>after</i><div><u>in</u></div>");
  const out2 = await rewrite("<p>old</p><span>s</span>", (rw) =>
    rw
      .on("p", { element: (el) => el.replace("<hr>", { html: true }) })
      .on("span", { element: (el) => el.setInnerContent("a<b") }),
  );
  assertEquals(out2, "<hr><span>a&lt;b</span>");
});

test("remove and removeAndKeepContent", async () => {
  const out = await rewrite("<div><span>keep</span></div><aside>gone<b>x</b></aside>", (rw) =>
    rw
      .on("div", { element: (el) => el.removeAndKeepContent() })
      .on("aside", { element: (el) => el.remove() }),
  );
  assertEquals(out, "<span>keep</span>");
});

test("onEndTag: name, before, after, remove, rename", async () => {
  const names = [];
  const out = await rewrite("<div>x</div><p>y</p><span>z</span>", (rw) =>
    rw
      .on("div", {
        element(el) {
          el.onEndTag((end) => {
            names.push(end.name);
            end.before("!", { html: true });
            end.after("<after>");
          });
        },
      })
      .on("p", { element: (el) => el.onEndTag((end) => void end.remove()) })
      .on("span", {
        element(el) {
          el.onEndTag((end) => {
            end.name = "b";
          });
        },
      }),
  );
  assertEquals(out, "<div>x!</div>&lt;after&gt;<p>y<span>z</b>");
  assertEquals(names, ["div"]);
});

test("onEndTag on a void element throws", async () => {
  let error;
  await rewrite("<img>", (rw) =>
    rw.on("img", {
      element(el) {
        try {
          el.onEndTag(() => {});
        } catch (e) {
          error = e;
        }
      },
    }),
  );
  assert(error instanceof TypeError, String(error));
});

test("text chunks: text, lastInTextNode, replace, remove, before/after", async () => {
  const chunks = [];
  const out = await rewrite("<p>hello world</p><b>bold</b><i>it</i>", (rw) =>
    rw
      .on("p", {
        text(t) {
          chunks.push([t.text, t.lastInTextNode]);
          if (t.text) t.replace("<HI>");
        },
      })
      .on("b", {
        text(t) {
          if (t.text) {
            t.before("[", { html: true });
            t.after("]");
          }
        },
      })
      .on("i", {
        text(t) {
          t.remove();
          assert(t.removed);
        },
      }),
  );
  assertEquals(out, "<p>&lt;HI&gt;</p><b>[bold]</b><i></i>");
  assertEquals(chunks.map((c) => c[0]).join(""), "hello world");
  assertEquals(chunks[chunks.length - 1][1], true);
});

test("comments: text get/set, replace, remove, before/after", async () => {
  const texts = [];
  const out = await rewrite("<div><!-- one --><!--two--><!--three--><!--four--></div>", (rw) =>
    rw.on("div", {
      comments(c) {
        texts.push(c.text);
        if (c.text === " one ") c.text = "uno";
        else if (c.text === "two") c.replace("<b>2</b>", { html: true });
        else if (c.text === "three") {
          c.remove();
          assert(c.removed);
        } else {
          c.before("<");
          c.after(">", { html: true });
        }
      },
    }),
  );
  assertEquals(out, "<div><!--uno--><b>2</b>&lt;<!--four-->></div>");
  assertEquals(texts, [" one ", "two", "three", "four"]);
});

test("setting comment text with a closing sequence throws", async () => {
  let error;
  await rewrite("<!--x-->", (rw) =>
    rw.onDocument({
      comments(c) {
        try {
          c.text = "a-->b";
        } catch (e) {
          error = e;
        }
      },
    }),
  );
  assert(error instanceof TypeError, String(error));
});

test("document handlers: doctype, comments, text, end", async () => {
  const seen = [];
  let text = "";
  const out = await rewrite(
    '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd"><!--c--><p>t</p>',
    (rw) =>
      rw.onDocument({
        doctype(d) {
          seen.push(d.name, d.publicId, d.systemId);
        },
        comments(c) {
          seen.push(c.text);
        },
        text(t) {
          text += t.text;
        },
        end(end) {
          assert(end.append("<!-- end -->", { html: true }) === end);
          end.append("<x>");
        },
      }),
  );
  assertEquals(seen, ["html", "-//W3C//DTD HTML 4.01//EN", "http://www.w3.org/TR/html4/strict.dtd", "c"]);
  assertEquals(text, "t");
  assert(out.endsWith("<p>t</p><!-- end -->&lt;x&gt;"), out);
  const seen2 = [];
  await rewrite("<!doctype html><p></p>", (rw) => rw.onDocument({ doctype: (d) => seen2.push(d.name, d.publicId, d.systemId) }));
  assertEquals(seen2, ["html", null, null]);
});

const SELECTOR_PAGE =
  '<div data-i="0" id="main" class="a b">' +
  '<p data-i="1" class="x y">t</p>' +
  '<p data-i="2" lang="en-US" data-x="foo-bar baz">t</p>' +
  '<section data-i="3"><p data-i="4">t</p></section>' +
  '<a data-i="5" href="https://ex.com/page.html">t</a>' +
  '<ul data-i="6"><li data-i="7">a</li><li data-i="8">b</li><li data-i="9">c</li></ul>' +
  "</div>";

test("selectors match as workerd's", async () => {
  const cases = {
    p: "1,2,4",
    "#main": "0",
    ".x": "1",
    "p.x.y": "1",
    "[lang]": "2",
    '[lang="en-US"]': "2",
    '[href^="https"]': "5",
    '[href$=".html"]': "5",
    '[href*="ex.com"]': "5",
    '[data-x~="baz"]': "2",
    '[lang|="en"]': "2",
    "div p": "1,2,4",
    "div > p": "1,2",
    "section > p": "4",
    "li:nth-child(2)": "8",
    "li:first-child": "7",
    "p:not(.x)": "2,4",
    "a, li:nth-child(3)": "5,9",
  };
  const failures = [];
  for (const [selector, expected] of Object.entries(cases)) {
    const got = [];
    await rewrite(SELECTOR_PAGE, (rw) => rw.on(selector, { element: (el) => got.push(el.getAttribute("data-i")) }));
    if (got.join(",") !== expected) failures.push(`${selector}: expected ${expected}, got ${got.join(",")}`);
  }
  assert(failures.length === 0, failures.join("; "));
});

test("invalid selectors throw a TypeError from on()", () => {
  for (const selector of ["", "p:hover", "p >", "p ~ a", "[", "::before"]) {
    const e = assertThrows(() => new HTMLRewriter().on(selector, {}), TypeError);
    assert(e.message.startsWith("Parser error: "), `${selector}: ${e.message}`);
  }
  assertThrows(() => new HTMLRewriter().on("p", { element: 1 }), TypeError);
  assertThrows(() => new HTMLRewriter().on("p"), TypeError);
});

test("async handlers are awaited before rewriting continues", async () => {
  const log = [];
  const out = await rewrite("<a>1</a><a>2</a><b>3</b>", (rw) =>
    rw
      .on("a", {
        async element(el) {
          const text = log.length;
          log.push(`start ${text}`);
          await tick(5);
          el.setAttribute("n", String(text));
          log.push(`end ${text}`);
        },
      })
      .on("b", {
        element(el) {
          log.push("b");
          return tick(1).then(() => el.append("!"));
        },
      }),
  );
  assertEquals(out, '<a n="0">1</a><a n="2">2</a><b>3!</b>');
  assertEquals(log, ["start 0", "end 0", "start 2", "end 2", "b"]);
});

test("output before a waiting async handler is delivered while it waits", async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  const res = new HTMLRewriter()
    .on("b", {
      async element(el) {
        await gate;
        el.setAttribute("x", "1");
      },
    })
    .transform(new Response("<p>before</p><b>b</b><i>after</i>"));
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const first = decoder.decode((await reader.read()).value);
  assertEquals(first, "<p>before</p>");
  release();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += decoder.decode(value);
  }
  assertEquals(rest, '<b x="1">b</b><i>after</i>');
});

test("handlers that call back into the rewriter later see an invalid token", async () => {
  let later;
  const out = await rewrite("<p>a</p><p>b</p>", (rw) =>
    rw.on("p", {
      element(el) {
        if (later === undefined) later = el;
        else assertThrows(() => later.setAttribute("x", "y"), TypeError, "no longer valid");
      },
    }),
  );
  assertEquals(out, "<p>a</p><p>b</p>");
});

test("handlers are called with the handler object as this", async () => {
  class Rewriter {
    constructor(prefix) {
      this.prefix = prefix;
    }
    element(el) {
      el.setAttribute("href", this.prefix + el.getAttribute("href"));
    }
  }
  const out = await rewrite('<a href="/x">x</a>', (rw) => rw.on("a", new Rewriter("https://cdn")));
  assertEquals(out, '<a href="https://cdn/x">x</a>');
});

test("a handler's exception errors the output", async () => {
  const boom = new Error("boom");
  const res = new HTMLRewriter()
    .on("p", {
      element() {
        throw boom;
      },
    })
    .transform(new Response("<div><p>x</p></div>"));
  const e = await assertRejects(() => res.text(), Error, "boom");
  assert(e === boom, "the handler's own exception");
  const res2 = new HTMLRewriter()
    .on("p", {
      async element() {
        await tick();
        throw new RangeError("later");
      },
    })
    .transform(new Response("<p>x</p>"));
  await assertRejects(() => res2.text(), RangeError, "later");
  const res3 = new HTMLRewriter()
    .onDocument({
      end() {
        throw new TypeError("at the end");
      },
    })
    .transform(new Response("<p>x</p>"));
  await assertRejects(() => res3.arrayBuffer(), TypeError, "at the end");
});

test("tokens are invalid once their handler has finished", async () => {
  let saved;
  let savedText;
  let attrs;
  await rewrite("<p a=1>x</p>", (rw) =>
    rw.on("p", {
      element(el) {
        saved = el;
        attrs = el.attributes;
      },
      text(t) {
        savedText = t;
      },
    }),
  );
  assertThrows(() => saved.tagName, TypeError, "This content token is no longer valid");
  assertThrows(() => saved.setAttribute("a", "b"), TypeError, "no longer valid");
  assertThrows(() => saved.append("x"), TypeError, "no longer valid");
  assertThrows(() => savedText.text, TypeError, "no longer valid");
  assertThrows(() => attrs.next(), TypeError, "no longer valid");
});

test("input split into tiny chunks, even mid-tag, rewrites the same", async () => {
  const page = '<!doctype html><html><head><title>T</title></head><body><a href="/one">1</a><!-- c --><img src="/i.png"><a  href = "/two" >2</a></body></html>';
  const setup = (rw) =>
    rw
      .on("a[href]", { element: (el) => el.setAttribute("href", "https://cdn.test" + el.getAttribute("href")) })
      .on("img", { element: (el) => el.setAttribute("loading", "lazy") })
      .onDocument({ comments: (c) => c.remove() });
  const whole = await rewrite(page, setup);
  assert(whole.includes('<a href="https://cdn.test/one">1</a>'), whole);
  assert(whole.includes('<img src="/i.png" loading="lazy">'), whole);
  assert(!whole.includes("<!--"), whole);
  for (const size of [1, 2, 3, 7]) {
    assertEquals(await rewrite(page, setup, size), whole, `chunks of ${size}`);
  }
});

test("large input is streamed, not buffered", async () => {
  const piece = '<li><a href="/item">item</a></li>';
  const total = 40000; // ~1.3 MB in 400 chunks
  let pulled = 0;
  const encoder = new TextEncoder();
  const source = new ReadableStream({
    pull(c) {
      if (pulled === total / 100) return c.close();
      pulled++;
      c.enqueue(encoder.encode(piece.repeat(100)));
    },
  });
  let rewritten = 0;
  const res = new HTMLRewriter()
    .on("a", {
      element(el) {
        rewritten++;
        el.setAttribute("href", "/new");
      },
    })
    .transform(new Response(source));
  const reader = res.body.getReader();
  const first = await reader.read();
  assert(!first.done && first.value.byteLength > 0);
  assert(pulled < 10, `only the first chunks were read (${pulled})`);
  let bytes = first.value.byteLength;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
  }
  assertEquals(rewritten, total);
  assertEquals(bytes, total * piece.replace("/item", "/new").length);
});

test("transform keeps status and headers, drops Content-Length, passes null bodies", async () => {
  const res = new Response("<p>hello</p>", {
    status: 404,
    statusText: "Nope",
    headers: { "content-length": "12", "x-foo": "bar", "content-type": "text/html" },
  });
  const out = new HTMLRewriter().on("p", { element: (el) => el.setInnerContent("bye") }).transform(res);
  assert(out instanceof Response);
  assertEquals(out.status, 404);
  assertEquals(out.statusText, "Nope");
  assertEquals(out.headers.get("x-foo"), "bar");
  assertEquals(out.headers.get("content-length"), null);
  assertEquals(await out.text(), "<p>bye</p>");
  const empty = new Response(null, { status: 204 });
  assert(new HTMLRewriter().transform(empty) === empty);
  assertThrows(() => new HTMLRewriter().transform("<p>"), TypeError);
  assertEquals(Object.prototype.toString.call(new HTMLRewriter()), "[object HTMLRewriter]");
});

test("the response charset selects the decoder", async () => {
  const latin1 = new Uint8Array([0x3c, 0x70, 0x3e, 0xe9, 0x3c, 0x2f, 0x70, 0x3e]); // <p>é</p>
  let text = "";
  const res = new HTMLRewriter()
    .on("p", { text: (t) => void (text += t.text) })
    .transform(new Response(latin1, { headers: { "content-type": "text/html; charset=windows-1252" } }));
  const out = new Uint8Array(await res.arrayBuffer());
  assertEquals(text, "é");
  assertEquals([...out], [...latin1]);
  assertThrows(
    () => new HTMLRewriter().transform(new Response("x", { headers: { "content-type": "text/html; charset=utf-16" } })),
    TypeError,
  );
});

test("an empty rewriter passes the document through", async () => {
  const page = "<!doctype html><p class=x>a &amp; b</p><!--c-->";
  assertEquals(await rewrite(page, (rw) => rw), page);
  assertEquals(await rewrite(page, (rw) => rw, 3), page);
});

export default suite();
