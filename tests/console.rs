//! console output as workerd prints it (Node's util.inspect formatting),
//! read back from the proxy's log.

mod common;

use std::time::Duration;

use common::{Proxy, get_host};

const SCRIPT: &str = r#"
export default {
  async fetch() {
    class Point { constructor() { this.x = 1; this.y = 2; } }
    const circular = { name: "c" };
    circular.self = circular;
    console.log("plain %s %d", "text", 42, { a: [1, { b: { c: { d: 1 } } }], s: "q'uote" });
    console.info(new Point(), new Map([["k", 1]]), new Set([1]), [1, , 3]);
    console.warn(circular);
    console.error(new Uint8Array([1, 2]), Symbol("sym"), 10n, -0, null, undefined);
    console.debug("debug line");
    console.group("Group");
    console.log("nested");
    console.groupEnd();
    console.assert(false, "assert %s", "message");
    console.count("hits");
    console.count("hits");
    console.table([{ a: 1, b: "x" }]);
    console.log(Promise.resolve(5), new Date(0), /re/g, () => {}, class K {});
    console.log(new URL("https://a.test/p?q=1"));
    const res = new Response("body text", { status: 201, headers: { "x-h": "v" } });
    console.log(res);
    if ((await res.text()) !== "body text") throw new Error("inspecting a Response consumed it");
    console.log("END-OF-CONSOLE");
    return new Response("ok");
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn console_output_is_formatted_like_node() {
    let proxy = Proxy::builder()
        .script("c.js", SCRIPT)
        .config(
            "[[workers]]\nname = \"con\"\nmain = \"c.js\"\n\n[[routes]]\npattern = \"c.test/*\"\nworker = \"con\"\n",
        )
        .env("RUST_LOG", "debug")
        .start()
        .await;
    let r = get_host(&proxy.url("/"), "c.test").await;
    assert_eq!(r.status(), 200);
    let log = proxy.wait_for_log("END-OF-CONSOLE", Duration::from_secs(5)).await;
    for line in [
        "worker con: plain text 42 { a: [ 1, { b: [Object] } ], s: \"q'uote\" }",
        "worker con: Point { x: 1, y: 2 } Map(1) { 'k' => 1 } Set(1) { 1 } [ 1, <1 empty item>, 3 ]",
        "worker con: <ref *1> { name: 'c', self: [Circular *1] }",
        "worker con: Uint8Array(2) [ 1, 2 ] Symbol(sym) 10n -0 null undefined",
        "worker con: Group",
        "worker con:   nested",
        "worker con: Assertion failed: assert message",
        "worker con: hits: 1",
        "worker con: hits: 2",
        "│ (index) │ a │ b   │",
        "│ 0       │ 1 │ 'x' │",
        "worker con: Promise { 5 } 1970-01-01T00:00:00.000Z /re/g [Function (anonymous)] [class K]",
        "worker con: URL {",
        "href: 'https://a.test/p?q=1'",
        "worker con: Response {",
        "status: 201",
    ] {
        assert!(log.contains(line), "missing {line:?} in log:\n{log}");
    }
    // Levels: warn and error lines are logged as such.
    let level_of = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .map(|l| l.to_string())
            .unwrap_or_default()
    };
    assert!(level_of("<ref *1>").contains("WARN"), "{}", level_of("<ref *1>"));
    assert!(
        level_of("Uint8Array(2)").contains("ERROR"),
        "{}",
        level_of("Uint8Array(2)")
    );
}
