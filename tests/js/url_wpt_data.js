// The WPT URL test data (web-platform-tests url/resources/urltestdata.json,
// urltestdata-javascript-only.json and setters_tests.json, 3-clause BSD; this
// copy as vendored by the ada-url 4.0.0 crate's tests/wpt), as a module for
// url_wpt.test.js. Comment strings removed.
export const urltestdata = [
{
"input": "http://example\t.\norg",
"base": "http://example.org/foo/bar",
"href": "http://example.org/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://user:pass@foo:21/bar;par?b#c",
"base": "http://example.org/foo/bar",
"href": "http://user:pass@foo:21/bar;par?b#c",
"origin": "http://foo:21",
"protocol": "http:",
"username": "user",
"password": "pass",
"host": "foo:21",
"hostname": "foo",
"port": "21",
"pathname": "/bar;par",
"search": "?b",
"hash": "#c"
},
{
"input": "https://test:@test",
"base": null,
"href": "https://test@test/",
"origin": "https://test",
"protocol": "https:",
"username": "test",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://:@test",
"base": null,
"href": "https://test/",
"origin": "https://test",
"protocol": "https:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special://test:@test/x",
"base": null,
"href": "non-special://test@test/x",
"origin": "null",
"protocol": "non-special:",
"username": "test",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/x",
"search": "",
"hash": ""
},
{
"input": "non-special://:@test/x",
"base": null,
"href": "non-special://test/x",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/x",
"search": "",
"hash": ""
},
{
"input": "http:foo.com",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/foo.com",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/foo.com",
"search": "",
"hash": ""
},
{
"input": "\t   :foo.com   \n",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:foo.com",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:foo.com",
"search": "",
"hash": ""
},
{
"input": " foo.com  ",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/foo.com",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/foo.com",
"search": "",
"hash": ""
},
{
"input": "a:\t foo.com",
"base": "http://example.org/foo/bar",
"href": "a: foo.com",
"origin": "null",
"protocol": "a:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": " foo.com",
"search": "",
"hash": ""
},
{
"input": "http://f:21/ b ? d # e ",
"base": "http://example.org/foo/bar",
"href": "http://f:21/%20b%20?%20d%20#%20e",
"origin": "http://f:21",
"protocol": "http:",
"username": "",
"password": "",
"host": "f:21",
"hostname": "f",
"port": "21",
"pathname": "/%20b%20",
"search": "?%20d%20",
"hash": "#%20e"
},
{
"input": "lolscheme:x x#x x",
"base": null,
"href": "lolscheme:x x#x%20x",
"protocol": "lolscheme:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "x x",
"search": "",
"hash": "#x%20x"
},
{
"input": "http://f:/c",
"base": "http://example.org/foo/bar",
"href": "http://f/c",
"origin": "http://f",
"protocol": "http:",
"username": "",
"password": "",
"host": "f",
"hostname": "f",
"port": "",
"pathname": "/c",
"search": "",
"hash": ""
},
{
"input": "http://f:0/c",
"base": "http://example.org/foo/bar",
"href": "http://f:0/c",
"origin": "http://f:0",
"protocol": "http:",
"username": "",
"password": "",
"host": "f:0",
"hostname": "f",
"port": "0",
"pathname": "/c",
"search": "",
"hash": ""
},
{
"input": "http://f:00000000000000/c",
"base": "http://example.org/foo/bar",
"href": "http://f:0/c",
"origin": "http://f:0",
"protocol": "http:",
"username": "",
"password": "",
"host": "f:0",
"hostname": "f",
"port": "0",
"pathname": "/c",
"search": "",
"hash": ""
},
{
"input": "http://f:00000000000000000000080/c",
"base": "http://example.org/foo/bar",
"href": "http://f/c",
"origin": "http://f",
"protocol": "http:",
"username": "",
"password": "",
"host": "f",
"hostname": "f",
"port": "",
"pathname": "/c",
"search": "",
"hash": ""
},
{
"input": "http://f:b/c",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://f: /c",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://f:\n/c",
"base": "http://example.org/foo/bar",
"href": "http://f/c",
"origin": "http://f",
"protocol": "http:",
"username": "",
"password": "",
"host": "f",
"hostname": "f",
"port": "",
"pathname": "/c",
"search": "",
"hash": ""
},
{
"input": "http://f:fifty-two/c",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://f:999999/c",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "non-special://f:999999/c",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://f: 21 / b ? d # e ",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": ""
},
{
"input": "  \t",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": ""
},
{
"input": ":foo.com/",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:foo.com/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:foo.com/",
"search": "",
"hash": ""
},
{
"input": ":foo.com\\",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:foo.com/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:foo.com/",
"search": "",
"hash": ""
},
{
"input": ":",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:",
"search": "",
"hash": ""
},
{
"input": ":a",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:a",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:a",
"search": "",
"hash": ""
},
{
"input": ":/",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:/",
"search": "",
"hash": ""
},
{
"input": ":\\",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:/",
"search": "",
"hash": ""
},
{
"input": ":#",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:#",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:",
"search": "",
"hash": ""
},
{
"input": "#",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar#",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": ""
},
{
"input": "#/",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar#/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": "#/"
},
{
"input": "#\\",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar#\\",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": "#\\"
},
{
"input": "#;?",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar#;?",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": "#;?"
},
{
"input": "?",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar?",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": ""
},
{
"input": "/",
"base": "http://example.org/foo/bar",
"href": "http://example.org/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": ":23",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:23",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:23",
"search": "",
"hash": ""
},
{
"input": "/:23",
"base": "http://example.org/foo/bar",
"href": "http://example.org/:23",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/:23",
"search": "",
"hash": ""
},
{
"input": "\\x",
"base": "http://example.org/foo/bar",
"href": "http://example.org/x",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/x",
"search": "",
"hash": ""
},
{
"input": "\\\\x\\hello",
"base": "http://example.org/foo/bar",
"href": "http://x/hello",
"origin": "http://x",
"protocol": "http:",
"username": "",
"password": "",
"host": "x",
"hostname": "x",
"port": "",
"pathname": "/hello",
"search": "",
"hash": ""
},
{
"input": "::",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/::",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/::",
"search": "",
"hash": ""
},
{
"input": "::23",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/::23",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/::23",
"search": "",
"hash": ""
},
{
"input": "foo://",
"base": "http://example.org/foo/bar",
"href": "foo://",
"origin": "null",
"protocol": "foo:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "http://a:b@c:29/d",
"base": "http://example.org/foo/bar",
"href": "http://a:b@c:29/d",
"origin": "http://c:29",
"protocol": "http:",
"username": "a",
"password": "b",
"host": "c:29",
"hostname": "c",
"port": "29",
"pathname": "/d",
"search": "",
"hash": ""
},
{
"input": "http://\u00e9@\u00e9",
"base": null,
"href": "http://%C3%A9@xn--9ca/",
"origin": "http://xn--9ca",
"protocol": "http:",
"username": "%C3%A9",
"password": "",
"host": "xn--9ca",
"hostname": "xn--9ca",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://\u00e9@example.com",
"base": null,
"href": "http://%C3%A9@example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "%C3%A9",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http::@c:29",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/:@c:29",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/:@c:29",
"search": "",
"hash": ""
},
{
"input": "http://&a:foo(b]c@d:2/",
"base": "http://example.org/foo/bar",
"href": "http://&a:foo(b%5Dc@d:2/",
"origin": "http://d:2",
"protocol": "http:",
"username": "&a",
"password": "foo(b%5Dc",
"host": "d:2",
"hostname": "d",
"port": "2",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://::@c@d:2",
"base": "http://example.org/foo/bar",
"href": "http://:%3A%40c@d:2/",
"origin": "http://d:2",
"protocol": "http:",
"username": "",
"password": "%3A%40c",
"host": "d:2",
"hostname": "d",
"port": "2",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://foo.com:b@d/",
"base": "http://example.org/foo/bar",
"href": "http://foo.com:b@d/",
"origin": "http://d",
"protocol": "http:",
"username": "foo.com",
"password": "b",
"host": "d",
"hostname": "d",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://foo.com/\\@",
"base": "http://example.org/foo/bar",
"href": "http://foo.com//@",
"origin": "http://foo.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.com",
"hostname": "foo.com",
"port": "",
"pathname": "//@",
"search": "",
"hash": ""
},
{
"input": "http:\\\\foo.com\\",
"base": "http://example.org/foo/bar",
"href": "http://foo.com/",
"origin": "http://foo.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.com",
"hostname": "foo.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:\\\\a\\b:c\\d@foo.com\\",
"base": "http://example.org/foo/bar",
"href": "http://a/b:c/d@foo.com/",
"origin": "http://a",
"protocol": "http:",
"username": "",
"password": "",
"host": "a",
"hostname": "a",
"port": "",
"pathname": "/b:c/d@foo.com/",
"search": "",
"hash": ""
},
{
"input": "http://a:b@c\\",
"base": null,
"href": "http://a:b@c/",
"origin": "http://c",
"protocol": "http:",
"username": "a",
"password": "b",
"host": "c",
"hostname": "c",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ws://a@b\\c",
"base": null,
"href": "ws://a@b/c",
"origin": "ws://b",
"protocol": "ws:",
"username": "a",
"password": "",
"host": "b",
"hostname": "b",
"port": "",
"pathname": "/c",
"search": "",
"hash": ""
},
{
"input": "foo:/",
"base": "http://example.org/foo/bar",
"href": "foo:/",
"origin": "null",
"protocol": "foo:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "foo:/bar.com/",
"base": "http://example.org/foo/bar",
"href": "foo:/bar.com/",
"origin": "null",
"protocol": "foo:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/bar.com/",
"search": "",
"hash": ""
},
{
"input": "foo://///////",
"base": "http://example.org/foo/bar",
"href": "foo://///////",
"origin": "null",
"protocol": "foo:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "///////",
"search": "",
"hash": ""
},
{
"input": "foo://///////bar.com/",
"base": "http://example.org/foo/bar",
"href": "foo://///////bar.com/",
"origin": "null",
"protocol": "foo:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "///////bar.com/",
"search": "",
"hash": ""
},
{
"input": "foo:////://///",
"base": "http://example.org/foo/bar",
"href": "foo:////://///",
"origin": "null",
"protocol": "foo:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//://///",
"search": "",
"hash": ""
},
{
"input": "c:/foo",
"base": "http://example.org/foo/bar",
"href": "c:/foo",
"origin": "null",
"protocol": "c:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/foo",
"search": "",
"hash": ""
},
{
"input": "//foo/bar",
"base": "http://example.org/foo/bar",
"href": "http://foo/bar",
"origin": "http://foo",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/bar",
"search": "",
"hash": ""
},
{
"input": "http://foo/path;a??e#f#g",
"base": "http://example.org/foo/bar",
"href": "http://foo/path;a??e#f#g",
"origin": "http://foo",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/path;a",
"search": "??e",
"hash": "#f#g"
},
{
"input": "http://foo/abcd?efgh?ijkl",
"base": "http://example.org/foo/bar",
"href": "http://foo/abcd?efgh?ijkl",
"origin": "http://foo",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/abcd",
"search": "?efgh?ijkl",
"hash": ""
},
{
"input": "http://foo/abcd#foo?bar",
"base": "http://example.org/foo/bar",
"href": "http://foo/abcd#foo?bar",
"origin": "http://foo",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/abcd",
"search": "",
"hash": "#foo?bar"
},
{
"input": "[61:24:74]:98",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/[61:24:74]:98",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/[61:24:74]:98",
"search": "",
"hash": ""
},
{
"input": "http:[61:27]/:foo",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/[61:27]/:foo",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/[61:27]/:foo",
"search": "",
"hash": ""
},
{
"input": "http://[1::2]:3:4",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://2001::1",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://2001::1]",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://2001::1]:80",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://[2001::1]",
"base": "http://example.org/foo/bar",
"href": "http://[2001::1]/",
"origin": "http://[2001::1]",
"protocol": "http:",
"username": "",
"password": "",
"host": "[2001::1]",
"hostname": "[2001::1]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://[::127.0.0.1]",
"base": "http://example.org/foo/bar",
"href": "http://[::7f00:1]/",
"origin": "http://[::7f00:1]",
"protocol": "http:",
"username": "",
"password": "",
"host": "[::7f00:1]",
"hostname": "[::7f00:1]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://[::127.0.0.1.]",
"base": "http://example.org/foo/bar",
"failure": true
},
{
"input": "http://[0:0:0:0:0:0:13.1.68.3]",
"base": "http://example.org/foo/bar",
"href": "http://[::d01:4403]/",
"origin": "http://[::d01:4403]",
"protocol": "http:",
"username": "",
"password": "",
"host": "[::d01:4403]",
"hostname": "[::d01:4403]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://[2001::1]:80",
"base": "http://example.org/foo/bar",
"href": "http://[2001::1]/",
"origin": "http://[2001::1]",
"protocol": "http:",
"username": "",
"password": "",
"host": "[2001::1]",
"hostname": "[2001::1]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/example.com/",
"base": "http://example.org/foo/bar",
"href": "http://example.org/example.com/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "http:/",
"base": "http://example.com/",
"href": "http://example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ftp:/example.com/",
"base": "http://example.org/foo/bar",
"href": "ftp://example.com/",
"origin": "ftp://example.com",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https:/example.com/",
"base": "http://example.org/foo/bar",
"href": "https://example.com/",
"origin": "https://example.com",
"protocol": "https:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "madeupscheme:/example.com/",
"base": "http://example.org/foo/bar",
"href": "madeupscheme:/example.com/",
"origin": "null",
"protocol": "madeupscheme:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "file:/example.com/",
"base": "http://example.org/foo/bar",
"href": "file:///example.com/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "file://example:1/",
"base": null,
"failure": true
},
{
"input": "file://example:test/",
"base": null,
"failure": true
},
{
"input": "file://example%/",
"base": null,
"failure": true
},
{
"input": "file://[example]/",
"base": null,
"failure": true
},
{
"input": "ftps:/example.com/",
"base": "http://example.org/foo/bar",
"href": "ftps:/example.com/",
"origin": "null",
"protocol": "ftps:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "gopher:/example.com/",
"base": "http://example.org/foo/bar",
"href": "gopher:/example.com/",
"origin": "null",
"protocol": "gopher:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "ws:/example.com/",
"base": "http://example.org/foo/bar",
"href": "ws://example.com/",
"origin": "ws://example.com",
"protocol": "ws:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss:/example.com/",
"base": "http://example.org/foo/bar",
"href": "wss://example.com/",
"origin": "wss://example.com",
"protocol": "wss:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "data:/example.com/",
"base": "http://example.org/foo/bar",
"href": "data:/example.com/",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "javascript:/example.com/",
"base": "http://example.org/foo/bar",
"href": "javascript:/example.com/",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "mailto:/example.com/",
"base": "http://example.org/foo/bar",
"href": "mailto:/example.com/",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "http:example.com/",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/example.com/",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/example.com/",
"search": "",
"hash": ""
},
{
"input": "ftp:example.com/",
"base": "http://example.org/foo/bar",
"href": "ftp://example.com/",
"origin": "ftp://example.com",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https:example.com/",
"base": "http://example.org/foo/bar",
"href": "https://example.com/",
"origin": "https://example.com",
"protocol": "https:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "madeupscheme:example.com/",
"base": "http://example.org/foo/bar",
"href": "madeupscheme:example.com/",
"origin": "null",
"protocol": "madeupscheme:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "ftps:example.com/",
"base": "http://example.org/foo/bar",
"href": "ftps:example.com/",
"origin": "null",
"protocol": "ftps:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "gopher:example.com/",
"base": "http://example.org/foo/bar",
"href": "gopher:example.com/",
"origin": "null",
"protocol": "gopher:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "ws:example.com/",
"base": "http://example.org/foo/bar",
"href": "ws://example.com/",
"origin": "ws://example.com",
"protocol": "ws:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss:example.com/",
"base": "http://example.org/foo/bar",
"href": "wss://example.com/",
"origin": "wss://example.com",
"protocol": "wss:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "data:example.com/",
"base": "http://example.org/foo/bar",
"href": "data:example.com/",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "javascript:example.com/",
"base": "http://example.org/foo/bar",
"href": "javascript:example.com/",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "mailto:example.com/",
"base": "http://example.org/foo/bar",
"href": "mailto:example.com/",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "/a/b/c",
"base": "http://example.org/foo/bar",
"href": "http://example.org/a/b/c",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/a/b/c",
"search": "",
"hash": ""
},
{
"input": "/a/ /c",
"base": "http://example.org/foo/bar",
"href": "http://example.org/a/%20/c",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/a/%20/c",
"search": "",
"hash": ""
},
{
"input": "/a%2fc",
"base": "http://example.org/foo/bar",
"href": "http://example.org/a%2fc",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/a%2fc",
"search": "",
"hash": ""
},
{
"input": "/a/%2f/c",
"base": "http://example.org/foo/bar",
"href": "http://example.org/a/%2f/c",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/a/%2f/c",
"search": "",
"hash": ""
},
{
"input": "#\u03b2",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar#%CE%B2",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": "#%CE%B2"
},
{
"input": "data:text/html,test#test",
"base": "http://example.org/foo/bar",
"href": "data:text/html,test#test",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "text/html,test",
"search": "",
"hash": "#test"
},
{
"input": "tel:1234567890",
"base": "http://example.org/foo/bar",
"href": "tel:1234567890",
"origin": "null",
"protocol": "tel:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "1234567890",
"search": "",
"hash": ""
},
{
"input": "ssh://example.com/foo/bar.git",
"base": "http://example.org/",
"href": "ssh://example.com/foo/bar.git",
"origin": "null",
"protocol": "ssh:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/bar.git",
"search": "",
"hash": ""
},
{
"input": "file:c:\\foo\\bar.html",
"base": "file:///tmp/mock/path",
"href": "file:///c:/foo/bar.html",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/c:/foo/bar.html",
"search": "",
"hash": ""
},
{
"input": "  File:c|////foo\\bar.html",
"base": "file:///tmp/mock/path",
"href": "file:///c:////foo/bar.html",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/c:////foo/bar.html",
"search": "",
"hash": ""
},
{
"input": "C|/foo/bar",
"base": "file:///tmp/mock/path",
"href": "file:///C:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "/C|\\foo\\bar",
"base": "file:///tmp/mock/path",
"href": "file:///C:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "//C|/foo/bar",
"base": "file:///tmp/mock/path",
"href": "file:///C:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "//server/file",
"base": "file:///tmp/mock/path",
"href": "file://server/file",
"protocol": "file:",
"username": "",
"password": "",
"host": "server",
"hostname": "server",
"port": "",
"pathname": "/file",
"search": "",
"hash": ""
},
{
"input": "\\\\server\\file",
"base": "file:///tmp/mock/path",
"href": "file://server/file",
"protocol": "file:",
"username": "",
"password": "",
"host": "server",
"hostname": "server",
"port": "",
"pathname": "/file",
"search": "",
"hash": ""
},
{
"input": "/\\server/file",
"base": "file:///tmp/mock/path",
"href": "file://server/file",
"protocol": "file:",
"username": "",
"password": "",
"host": "server",
"hostname": "server",
"port": "",
"pathname": "/file",
"search": "",
"hash": ""
},
{
"input": "file:///foo/bar.txt",
"base": "file:///tmp/mock/path",
"href": "file:///foo/bar.txt",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/foo/bar.txt",
"search": "",
"hash": ""
},
{
"input": "file:///home/me",
"base": "file:///tmp/mock/path",
"href": "file:///home/me",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/home/me",
"search": "",
"hash": ""
},
{
"input": "//",
"base": "file:///tmp/mock/path",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "///",
"base": "file:///tmp/mock/path",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "///test",
"base": "file:///tmp/mock/path",
"href": "file:///test",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "file://test",
"base": "file:///tmp/mock/path",
"href": "file://test/",
"protocol": "file:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file://localhost",
"base": "file:///tmp/mock/path",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file://localhost/",
"base": "file:///tmp/mock/path",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file://localhost/test",
"base": "file:///tmp/mock/path",
"href": "file:///test",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "test",
"base": "file:///tmp/mock/path",
"href": "file:///tmp/mock/test",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/tmp/mock/test",
"search": "",
"hash": ""
},
{
"input": "file:test",
"base": "file:///tmp/mock/path",
"href": "file:///tmp/mock/test",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/tmp/mock/test",
"search": "",
"hash": ""
},
{
"input": "file:///w|m",
"base": null,
"href": "file:///w|m",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/w|m",
"search": "",
"hash": ""
},
{
"input": "file:///w||m",
"base": null,
"href": "file:///w||m",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/w||m",
"search": "",
"hash": ""
},
{
"input": "file:///w|/m",
"base": null,
"href": "file:///w:/m",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/w:/m",
"search": "",
"hash": ""
},
{
"input": "file:C|/m/",
"base": null,
"href": "file:///C:/m/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/m/",
"search": "",
"hash": ""
},
{
"input": "file:C||/m/",
"base": null,
"href": "file:///C||/m/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C||/m/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/././foo",
"base": null,
"href": "http://example.com/foo",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo",
"search": "",
"hash": ""
},
{
"input": "http://example.com/./.foo",
"base": null,
"href": "http://example.com/.foo",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/.foo",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/.",
"base": null,
"href": "http://example.com/foo/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/./",
"base": null,
"href": "http://example.com/foo/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/bar/..",
"base": null,
"href": "http://example.com/foo/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/bar/../",
"base": null,
"href": "http://example.com/foo/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/..bar",
"base": null,
"href": "http://example.com/foo/..bar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/..bar",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/bar/../ton",
"base": null,
"href": "http://example.com/foo/ton",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/ton",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/bar/../ton/../../a",
"base": null,
"href": "http://example.com/a",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/../../..",
"base": null,
"href": "http://example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/../../../ton",
"base": null,
"href": "http://example.com/ton",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/ton",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/%2e",
"base": null,
"href": "http://example.com/foo/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/%2e%2",
"base": null,
"href": "http://example.com/foo/%2e%2",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/%2e%2",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/%2e./%2e%2e/.%2e/%2e.bar",
"base": null,
"href": "http://example.com/%2e.bar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%2e.bar",
"search": "",
"hash": ""
},
{
"input": "http://example.com////../..",
"base": null,
"href": "http://example.com//",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/bar//../..",
"base": null,
"href": "http://example.com/foo/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo/bar//..",
"base": null,
"href": "http://example.com/foo/bar/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo/bar/",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo",
"base": null,
"href": "http://example.com/foo",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo",
"search": "",
"hash": ""
},
{
"input": "http://example.com/%20foo",
"base": null,
"href": "http://example.com/%20foo",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%20foo",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo%",
"base": null,
"href": "http://example.com/foo%",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo%2",
"base": null,
"href": "http://example.com/foo%2",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%2",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo%2zbar",
"base": null,
"href": "http://example.com/foo%2zbar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%2zbar",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo%2\u00c2\u00a9zbar",
"base": null,
"href": "http://example.com/foo%2%C3%82%C2%A9zbar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%2%C3%82%C2%A9zbar",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo%41%7a",
"base": null,
"href": "http://example.com/foo%41%7a",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%41%7a",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo\t\u0091%91",
"base": null,
"href": "http://example.com/foo%C2%91%91",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%C2%91%91",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo%00%51",
"base": null,
"href": "http://example.com/foo%00%51",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foo%00%51",
"search": "",
"hash": ""
},
{
"input": "http://example.com/(%28:%3A%29)",
"base": null,
"href": "http://example.com/(%28:%3A%29)",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/(%28:%3A%29)",
"search": "",
"hash": ""
},
{
"input": "http://example.com/%3A%3a%3C%3c",
"base": null,
"href": "http://example.com/%3A%3a%3C%3c",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%3A%3a%3C%3c",
"search": "",
"hash": ""
},
{
"input": "http://example.com/foo\tbar",
"base": null,
"href": "http://example.com/foobar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/foobar",
"search": "",
"hash": ""
},
{
"input": "http://example.com\\\\foo\\\\bar",
"base": null,
"href": "http://example.com//foo//bar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "//foo//bar",
"search": "",
"hash": ""
},
{
"input": "http://example.com/%7Ffp3%3Eju%3Dduvgw%3Dd",
"base": null,
"href": "http://example.com/%7Ffp3%3Eju%3Dduvgw%3Dd",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%7Ffp3%3Eju%3Dduvgw%3Dd",
"search": "",
"hash": ""
},
{
"input": "http://example.com/@asdf%40",
"base": null,
"href": "http://example.com/@asdf%40",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/@asdf%40",
"search": "",
"hash": ""
},
{
"input": "http://example.com/\u4f60\u597d\u4f60\u597d",
"base": null,
"href": "http://example.com/%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD",
"search": "",
"hash": ""
},
{
"input": "http://example.com/\u2025/foo",
"base": null,
"href": "http://example.com/%E2%80%A5/foo",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%E2%80%A5/foo",
"search": "",
"hash": ""
},
{
"input": "http://example.com/\ufeff/foo",
"base": null,
"href": "http://example.com/%EF%BB%BF/foo",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%EF%BB%BF/foo",
"search": "",
"hash": ""
},
{
"input": "http://example.com/\u202e/foo/\u202d/bar",
"base": null,
"href": "http://example.com/%E2%80%AE/foo/%E2%80%AD/bar",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%E2%80%AE/foo/%E2%80%AD/bar",
"search": "",
"hash": ""
},
{
"input": "http://www.google.com/foo?bar=baz#",
"base": null,
"href": "http://www.google.com/foo?bar=baz#",
"origin": "http://www.google.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.google.com",
"hostname": "www.google.com",
"port": "",
"pathname": "/foo",
"search": "?bar=baz",
"hash": ""
},
{
"input": "http://www.google.com/foo?bar=baz# \u00bb",
"base": null,
"href": "http://www.google.com/foo?bar=baz#%20%C2%BB",
"origin": "http://www.google.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.google.com",
"hostname": "www.google.com",
"port": "",
"pathname": "/foo",
"search": "?bar=baz",
"hash": "#%20%C2%BB"
},
{
"input": "data:test# \u00bb",
"base": null,
"href": "data:test#%20%C2%BB",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "test",
"search": "",
"hash": "#%20%C2%BB"
},
{
"input": "http://www.google.com",
"base": null,
"href": "http://www.google.com/",
"origin": "http://www.google.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.google.com",
"hostname": "www.google.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://192.0x00A80001",
"base": null,
"href": "http://192.168.0.1/",
"origin": "http://192.168.0.1",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.0.1",
"hostname": "192.168.0.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://www/foo%2Ehtml",
"base": null,
"href": "http://www/foo%2Ehtml",
"origin": "http://www",
"protocol": "http:",
"username": "",
"password": "",
"host": "www",
"hostname": "www",
"port": "",
"pathname": "/foo%2Ehtml",
"search": "",
"hash": ""
},
{
"input": "http://www/foo/%2E/html",
"base": null,
"href": "http://www/foo/html",
"origin": "http://www",
"protocol": "http:",
"username": "",
"password": "",
"host": "www",
"hostname": "www",
"port": "",
"pathname": "/foo/html",
"search": "",
"hash": ""
},
{
"input": "http://user:pass@/",
"base": null,
"failure": true
},
{
"input": "http://%25DOMAIN:foobar@foodomain.com/",
"base": null,
"href": "http://%25DOMAIN:foobar@foodomain.com/",
"origin": "http://foodomain.com",
"protocol": "http:",
"username": "%25DOMAIN",
"password": "foobar",
"host": "foodomain.com",
"hostname": "foodomain.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:\\\\www.google.com\\foo",
"base": null,
"href": "http://www.google.com/foo",
"origin": "http://www.google.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.google.com",
"hostname": "www.google.com",
"port": "",
"pathname": "/foo",
"search": "",
"hash": ""
},
{
"input": "http://foo:80/",
"base": null,
"href": "http://foo/",
"origin": "http://foo",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://foo:81/",
"base": null,
"href": "http://foo:81/",
"origin": "http://foo:81",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo:81",
"hostname": "foo",
"port": "81",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "httpa://foo:80/",
"base": null,
"href": "httpa://foo:80/",
"origin": "null",
"protocol": "httpa:",
"username": "",
"password": "",
"host": "foo:80",
"hostname": "foo",
"port": "80",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://foo:-80/",
"base": null,
"failure": true
},
{
"input": "https://foo:443/",
"base": null,
"href": "https://foo/",
"origin": "https://foo",
"protocol": "https:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://foo:80/",
"base": null,
"href": "https://foo:80/",
"origin": "https://foo:80",
"protocol": "https:",
"username": "",
"password": "",
"host": "foo:80",
"hostname": "foo",
"port": "80",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ftp://foo:21/",
"base": null,
"href": "ftp://foo/",
"origin": "ftp://foo",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ftp://foo:80/",
"base": null,
"href": "ftp://foo:80/",
"origin": "ftp://foo:80",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "foo:80",
"hostname": "foo",
"port": "80",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "gopher://foo:70/",
"base": null,
"href": "gopher://foo:70/",
"origin": "null",
"protocol": "gopher:",
"username": "",
"password": "",
"host": "foo:70",
"hostname": "foo",
"port": "70",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "gopher://foo:443/",
"base": null,
"href": "gopher://foo:443/",
"origin": "null",
"protocol": "gopher:",
"username": "",
"password": "",
"host": "foo:443",
"hostname": "foo",
"port": "443",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ws://foo:80/",
"base": null,
"href": "ws://foo/",
"origin": "ws://foo",
"protocol": "ws:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ws://foo:81/",
"base": null,
"href": "ws://foo:81/",
"origin": "ws://foo:81",
"protocol": "ws:",
"username": "",
"password": "",
"host": "foo:81",
"hostname": "foo",
"port": "81",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ws://foo:443/",
"base": null,
"href": "ws://foo:443/",
"origin": "ws://foo:443",
"protocol": "ws:",
"username": "",
"password": "",
"host": "foo:443",
"hostname": "foo",
"port": "443",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ws://foo:815/",
"base": null,
"href": "ws://foo:815/",
"origin": "ws://foo:815",
"protocol": "ws:",
"username": "",
"password": "",
"host": "foo:815",
"hostname": "foo",
"port": "815",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss://foo:80/",
"base": null,
"href": "wss://foo:80/",
"origin": "wss://foo:80",
"protocol": "wss:",
"username": "",
"password": "",
"host": "foo:80",
"hostname": "foo",
"port": "80",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss://foo:81/",
"base": null,
"href": "wss://foo:81/",
"origin": "wss://foo:81",
"protocol": "wss:",
"username": "",
"password": "",
"host": "foo:81",
"hostname": "foo",
"port": "81",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss://foo:443/",
"base": null,
"href": "wss://foo/",
"origin": "wss://foo",
"protocol": "wss:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss://foo:815/",
"base": null,
"href": "wss://foo:815/",
"origin": "wss://foo:815",
"protocol": "wss:",
"username": "",
"password": "",
"host": "foo:815",
"hostname": "foo",
"port": "815",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/example.com/",
"base": null,
"href": "http://example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ftp:/example.com/",
"base": null,
"href": "ftp://example.com/",
"origin": "ftp://example.com",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https:/example.com/",
"base": null,
"href": "https://example.com/",
"origin": "https://example.com",
"protocol": "https:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "madeupscheme:/example.com/",
"base": null,
"href": "madeupscheme:/example.com/",
"origin": "null",
"protocol": "madeupscheme:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "file:/example.com/",
"base": null,
"href": "file:///example.com/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "ftps:/example.com/",
"base": null,
"href": "ftps:/example.com/",
"origin": "null",
"protocol": "ftps:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "gopher:/example.com/",
"base": null,
"href": "gopher:/example.com/",
"origin": "null",
"protocol": "gopher:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "ws:/example.com/",
"base": null,
"href": "ws://example.com/",
"origin": "ws://example.com",
"protocol": "ws:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss:/example.com/",
"base": null,
"href": "wss://example.com/",
"origin": "wss://example.com",
"protocol": "wss:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "data:/example.com/",
"base": null,
"href": "data:/example.com/",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "javascript:/example.com/",
"base": null,
"href": "javascript:/example.com/",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "mailto:/example.com/",
"base": null,
"href": "mailto:/example.com/",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/example.com/",
"search": "",
"hash": ""
},
{
"input": "http:example.com/",
"base": null,
"href": "http://example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ftp:example.com/",
"base": null,
"href": "ftp://example.com/",
"origin": "ftp://example.com",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https:example.com/",
"base": null,
"href": "https://example.com/",
"origin": "https://example.com",
"protocol": "https:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "madeupscheme:example.com/",
"base": null,
"href": "madeupscheme:example.com/",
"origin": "null",
"protocol": "madeupscheme:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "ftps:example.com/",
"base": null,
"href": "ftps:example.com/",
"origin": "null",
"protocol": "ftps:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "gopher:example.com/",
"base": null,
"href": "gopher:example.com/",
"origin": "null",
"protocol": "gopher:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "ws:example.com/",
"base": null,
"href": "ws://example.com/",
"origin": "ws://example.com",
"protocol": "ws:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "wss:example.com/",
"base": null,
"href": "wss://example.com/",
"origin": "wss://example.com",
"protocol": "wss:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "data:example.com/",
"base": null,
"href": "data:example.com/",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "javascript:example.com/",
"base": null,
"href": "javascript:example.com/",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "mailto:example.com/",
"base": null,
"href": "mailto:example.com/",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "example.com/",
"search": "",
"hash": ""
},
{
"input": "https://example.com/aaa/bbb/%2e%2e?query",
"base": null,
"href": "https://example.com/aaa/?query",
"origin": "https://example.com",
"protocol": "https:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/aaa/",
"search": "?query",
"hash": ""
},
{
"input": "http:@www.example.com",
"base": null,
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/@www.example.com",
"base": null,
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://@www.example.com",
"base": null,
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:a:b@www.example.com",
"base": null,
"href": "http://a:b@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "a",
"password": "b",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/a:b@www.example.com",
"base": null,
"href": "http://a:b@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "a",
"password": "b",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://a:b@www.example.com",
"base": null,
"href": "http://a:b@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "a",
"password": "b",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://@pple.com",
"base": null,
"href": "http://pple.com/",
"origin": "http://pple.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "pple.com",
"hostname": "pple.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http::b@www.example.com",
"base": null,
"href": "http://:b@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "b",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/:b@www.example.com",
"base": null,
"href": "http://:b@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "b",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://:b@www.example.com",
"base": null,
"href": "http://:b@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "b",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/:@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http://user@/www.example.com",
"base": null,
"failure": true
},
{
"input": "http:@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http:/@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http://@/www.example.com",
"base": null,
"failure": true
},
{
"input": "https:@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http:a:b@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http:/a:b@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http://a:b@/www.example.com",
"base": null,
"failure": true
},
{
"input": "http::@/www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http:a:@www.example.com",
"base": null,
"href": "http://a@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "a",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:/a:@www.example.com",
"base": null,
"href": "http://a@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "a",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://a:@www.example.com",
"base": null,
"href": "http://a@www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "a",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://www.@pple.com",
"base": null,
"href": "http://www.@pple.com/",
"origin": "http://pple.com",
"protocol": "http:",
"username": "www.",
"password": "",
"host": "pple.com",
"hostname": "pple.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http:@:www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http:/@:www.example.com",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http://@:www.example.com",
"base": null,
"failure": true
},
{
"input": "http://:@www.example.com",
"base": null,
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "/",
"base": "http://www.example.com/test",
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "/test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/test.txt",
"search": "",
"hash": ""
},
{
"input": ".",
"base": "http://www.example.com/test",
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "http://www.example.com/test",
"href": "http://www.example.com/",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/test.txt",
"search": "",
"hash": ""
},
{
"input": "./test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/test.txt",
"search": "",
"hash": ""
},
{
"input": "../test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/test.txt",
"search": "",
"hash": ""
},
{
"input": "../aaa/test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/aaa/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/aaa/test.txt",
"search": "",
"hash": ""
},
{
"input": "../../test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/test.txt",
"search": "",
"hash": ""
},
{
"input": "\u4e2d/test.txt",
"base": "http://www.example.com/test",
"href": "http://www.example.com/%E4%B8%AD/test.txt",
"origin": "http://www.example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example.com",
"hostname": "www.example.com",
"port": "",
"pathname": "/%E4%B8%AD/test.txt",
"search": "",
"hash": ""
},
{
"input": "http://www.example2.com",
"base": "http://www.example.com/test",
"href": "http://www.example2.com/",
"origin": "http://www.example2.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example2.com",
"hostname": "www.example2.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "//www.example2.com",
"base": "http://www.example.com/test",
"href": "http://www.example2.com/",
"origin": "http://www.example2.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.example2.com",
"hostname": "www.example2.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file:...",
"base": "http://www.example.com/test",
"href": "file:///...",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/...",
"search": "",
"hash": ""
},
{
"input": "file:..",
"base": "http://www.example.com/test",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file:a",
"base": "http://www.example.com/test",
"href": "file:///a",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "file:.",
"base": null,
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file:.",
"base": "http://www.example.com/test",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://ExAmPlE.CoM",
"base": "http://other.com/",
"href": "http://example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://example example.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://Goo%20 goo%7C|.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[:]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://GOO\u00a0\u3000goo.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://GOO\u200b\u2060\ufeffgoo.com",
"base": "http://other.com/",
"href": "http://googoo.com/",
"origin": "http://googoo.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "googoo.com",
"hostname": "googoo.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "\u0000\u001b\u0004\u0012 http://example.com/\u001f \r ",
"base": null,
"href": "http://example.com/",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special:opaque  ",
"base": null,
"href": "non-special:opaque",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque",
"search": "",
"hash": ""
},
{
"input": "non-special:opaque  ?hi",
"base": null,
"href": "non-special:opaque %20?hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque %20",
"search": "?hi",
"hash": ""
},
{
"input": "non-special:opaque  #hi",
"base": null,
"href": "non-special:opaque %20#hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque %20",
"search": "",
"hash": "#hi"
},
{
"input": "non-special:opaque  x?hi",
"base": null,
"href": "non-special:opaque  x?hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque  x",
"search": "?hi",
"hash": ""
},
{
"input": "non-special:opaque  x#hi",
"base": null,
"href": "non-special:opaque  x#hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque  x",
"search": "",
"hash": "#hi"
},
{
"input": "non-special:opaque \t\t  \t#hi",
"base": null,
"href": "non-special:opaque  %20#hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque  %20",
"search": "",
"hash": "#hi"
},
{
"input": "non-special:opaque \t\t  #hi",
"base": null,
"href": "non-special:opaque  %20#hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque  %20",
"search": "",
"hash": "#hi"
},
{
"input": "non-special:opaque\t\t  \r #hi",
"base": null,
"href": "non-special:opaque  %20#hi",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "opaque  %20",
"search": "",
"hash": "#hi"
},
{
"input": "http://www.foo\u3002bar.com",
"base": "http://other.com/",
"href": "http://www.foo.bar.com/",
"origin": "http://www.foo.bar.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "www.foo.bar.com",
"hostname": "www.foo.bar.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://\ufdd0zyx.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%ef%b7%90zyx.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "https://\ufffd",
"base": null,
"failure": true
},
{
"input": "https://%EF%BF%BD",
"base": null,
"failure": true
},
{
"input": "https://x/\ufffd?\ufffd#\ufffd",
"base": null,
"href": "https://x/%EF%BF%BD?%EF%BF%BD#%EF%BF%BD",
"origin": "https://x",
"protocol": "https:",
"username": "",
"password": "",
"host": "x",
"hostname": "x",
"port": "",
"pathname": "/%EF%BF%BD",
"search": "?%EF%BF%BD",
"hash": "#%EF%BF%BD"
},
{
"input": "http://a.b.c.xn--pokxncvks",
"base": null,
"href": "http://a.b.c.xn--pokxncvks/",
"origin": "http://a.b.c.xn--pokxncvks",
"protocol": "http:",
"username": "",
"password": "",
"host": "a.b.c.xn--pokxncvks",
"hostname": "a.b.c.xn--pokxncvks",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://10.0.0.xn--pokxncvks",
"base": null,
"href": "http://10.0.0.xn--pokxncvks/",
"origin": "http://10.0.0.xn--pokxncvks",
"protocol": "http:",
"username": "",
"password": "",
"host": "10.0.0.xn--pokxncvks",
"hostname": "10.0.0.xn--pokxncvks",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://a.b.c.XN--pokxncvks",
"base": null,
"href": "http://a.b.c.xn--pokxncvks/",
"origin": "http://a.b.c.xn--pokxncvks",
"protocol": "http:",
"username": "",
"password": "",
"host": "a.b.c.xn--pokxncvks",
"hostname": "a.b.c.xn--pokxncvks",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://a.b.c.Xn--pokxncvks",
"base": null,
"href": "http://a.b.c.xn--pokxncvks/",
"origin": "http://a.b.c.xn--pokxncvks",
"protocol": "http:",
"username": "",
"password": "",
"host": "a.b.c.xn--pokxncvks",
"hostname": "a.b.c.xn--pokxncvks",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://10.0.0.XN--pokxncvks",
"base": null,
"href": "http://10.0.0.xn--pokxncvks/",
"origin": "http://10.0.0.xn--pokxncvks",
"protocol": "http:",
"username": "",
"password": "",
"host": "10.0.0.xn--pokxncvks",
"hostname": "10.0.0.xn--pokxncvks",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://10.0.0.xN--pokxncvks",
"base": null,
"href": "http://10.0.0.xn--pokxncvks/",
"origin": "http://10.0.0.xn--pokxncvks",
"protocol": "http:",
"username": "",
"password": "",
"host": "10.0.0.xn--pokxncvks",
"hostname": "10.0.0.xn--pokxncvks",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://\uff27\uff4f.com",
"base": "http://other.com/",
"href": "http://go.com/",
"origin": "http://go.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "go.com",
"hostname": "go.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://\uff05\uff14\uff11.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%ef%bc%85%ef%bc%94%ef%bc%91.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://\uff05\uff10\uff10.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%ef%bc%85%ef%bc%90%ef%bc%90.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://\u4f60\u597d\u4f60\u597d",
"base": "http://other.com/",
"href": "http://xn--6qqa088eba/",
"origin": "http://xn--6qqa088eba",
"protocol": "http:",
"username": "",
"password": "",
"host": "xn--6qqa088eba",
"hostname": "xn--6qqa088eba",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://fa\u00df.ExAmPlE/",
"base": null,
"href": "https://xn--fa-hia.example/",
"origin": "https://xn--fa-hia.example",
"protocol": "https:",
"username": "",
"password": "",
"host": "xn--fa-hia.example",
"hostname": "xn--fa-hia.example",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "sc://fa\u00df.ExAmPlE/",
"base": null,
"href": "sc://fa%C3%9F.ExAmPlE/",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "fa%C3%9F.ExAmPlE",
"hostname": "fa%C3%9F.ExAmPlE",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://%zz%66%a.com",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%25",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://hello%00",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%30%78%63%30%2e%30%32%35%30.01",
"base": "http://other.com/",
"href": "http://192.168.0.1/",
"origin": "http://192.168.0.1",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.0.1",
"hostname": "192.168.0.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://%30%78%63%30%2e%30%32%35%30.01%2e",
"base": "http://other.com/",
"href": "http://192.168.0.1/",
"origin": "http://192.168.0.1",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.0.1",
"hostname": "192.168.0.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://192.168.0.257",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%3g%78%63%30%2e%30%32%35%30%2E.01",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://192.168.0.1 hello",
"base": "http://other.com/",
"failure": true
},
{
"input": "https://x x:12",
"base": null,
"failure": true
},
{
"input": "http://\uff10\uff38\uff43\uff10\uff0e\uff10\uff12\uff15\uff10\uff0e\uff10\uff11",
"base": "http://other.com/",
"href": "http://192.168.0.1/",
"origin": "http://192.168.0.1",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.0.1",
"hostname": "192.168.0.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://./",
"base": null,
"href": "http://./",
"origin": "http://.",
"protocol": "http:",
"username": "",
"password": "",
"host": ".",
"hostname": ".",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://../",
"base": null,
"href": "http://../",
"origin": "http://..",
"protocol": "http:",
"username": "",
"password": "",
"host": "..",
"hostname": "..",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "h://.",
"base": null,
"href": "h://.",
"origin": "null",
"protocol": "h:",
"username": "",
"password": "",
"host": ".",
"hostname": ".",
"port": "",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "http://[www.google.com]/",
"base": null,
"failure": true
},
{
"input": "http://[google.com]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::1.2.3.4x]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::1.2.3.]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::1.2.]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::.1.2]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::1.]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::.1]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://[::%31]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://%5B::1]",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://foo:\ud83d\udca9@example.com/bar",
"base": "http://other.com/",
"href": "http://foo:%F0%9F%92%A9@example.com/bar",
"origin": "http://example.com",
"protocol": "http:",
"username": "foo",
"password": "%F0%9F%92%A9",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/bar",
"search": "",
"hash": ""
},
{
"input": "http://\ud83d\ude00x@host/",
"base": null,
"href": "http://%F0%9F%98%80x@host/",
"origin": "http://host",
"protocol": "http:",
"username": "%F0%9F%98%80x",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://a:\ud83d\ude00x@host/",
"base": null,
"href": "http://a:%F0%9F%98%80x@host/",
"origin": "http://host",
"protocol": "http:",
"username": "a",
"password": "%F0%9F%98%80x",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://\ud83d\ude00@host/",
"base": null,
"href": "http://%F0%9F%98%80@host/",
"origin": "http://host",
"protocol": "http:",
"username": "%F0%9F%98%80",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://localhost?q=\ud83d\udd25",
"base": null,
"href": "https://localhost/?q=%F0%9F%94%A5",
"origin": "https://localhost",
"protocol": "https:",
"username": "",
"password": "",
"host": "localhost",
"hostname": "localhost",
"port": "",
"pathname": "/",
"search": "?q=%F0%9F%94%A5",
"hash": ""
},
{
"input": "https://localhost#\ud83d\udd25",
"base": null,
"href": "https://localhost/#%F0%9F%94%A5",
"origin": "https://localhost",
"protocol": "https:",
"username": "",
"password": "",
"host": "localhost",
"hostname": "localhost",
"port": "",
"pathname": "/",
"search": "",
"hash": "#%F0%9F%94%A5"
},
{
"input": "#",
"base": "test:test",
"href": "test:test#",
"origin": "null",
"protocol": "test:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "test",
"search": "",
"hash": ""
},
{
"input": "#x",
"base": "mailto:x@x.com",
"href": "mailto:x@x.com#x",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "x@x.com",
"search": "",
"hash": "#x"
},
{
"input": "#x",
"base": "data:,",
"href": "data:,#x",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": ",",
"search": "",
"hash": "#x"
},
{
"input": "#x",
"base": "about:blank",
"href": "about:blank#x",
"origin": "null",
"protocol": "about:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "blank",
"search": "",
"hash": "#x"
},
{
"input": "#x:y",
"base": "about:blank",
"href": "about:blank#x:y",
"origin": "null",
"protocol": "about:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "blank",
"search": "",
"hash": "#x:y"
},
{
"input": "#",
"base": "test:test?test",
"href": "test:test?test#",
"origin": "null",
"protocol": "test:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "test",
"search": "?test",
"hash": ""
},
{
"input": "https://@test@test@example:800/",
"base": "http://doesnotmatter/",
"href": "https://%40test%40test@example:800/",
"origin": "https://example:800",
"protocol": "https:",
"username": "%40test%40test",
"password": "",
"host": "example:800",
"hostname": "example",
"port": "800",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://@@@example",
"base": "http://doesnotmatter/",
"href": "https://%40%40@example/",
"origin": "https://example",
"protocol": "https:",
"username": "%40%40",
"password": "",
"host": "example",
"hostname": "example",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://`{}:`{}@h/`{}?`{}",
"base": "http://doesnotmatter/",
"href": "http://%60%7B%7D:%60%7B%7D@h/%60%7B%7D?`{}",
"origin": "http://h",
"protocol": "http:",
"username": "%60%7B%7D",
"password": "%60%7B%7D",
"host": "h",
"hostname": "h",
"port": "",
"pathname": "/%60%7B%7D",
"search": "?`{}",
"hash": ""
},
{
"input": "http://host/?'",
"base": null,
"href": "http://host/?%27",
"origin": "http://host",
"protocol": "http:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/",
"search": "?%27",
"hash": ""
},
{
"input": "notspecial://host/?'",
"base": null,
"href": "notspecial://host/?'",
"origin": "null",
"protocol": "notspecial:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/",
"search": "?'",
"hash": ""
},
{
"input": "/some/path",
"base": "http://user@example.org/smth",
"href": "http://user@example.org/some/path",
"origin": "http://example.org",
"protocol": "http:",
"username": "user",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/some/path",
"search": "",
"hash": ""
},
{
"input": "",
"base": "http://user:pass@example.org:21/smth",
"href": "http://user:pass@example.org:21/smth",
"origin": "http://example.org:21",
"protocol": "http:",
"username": "user",
"password": "pass",
"host": "example.org:21",
"hostname": "example.org",
"port": "21",
"pathname": "/smth",
"search": "",
"hash": ""
},
{
"input": "/some/path",
"base": "http://user:pass@example.org:21/smth",
"href": "http://user:pass@example.org:21/some/path",
"origin": "http://example.org:21",
"protocol": "http:",
"username": "user",
"password": "pass",
"host": "example.org:21",
"hostname": "example.org",
"port": "21",
"pathname": "/some/path",
"search": "",
"hash": ""
},
{
"input": "i",
"base": "sc:sd",
"failure": true
},
{
"input": "i",
"base": "sc:sd/sd",
"failure": true
},
{
"input": "i",
"base": "sc:/pa/pa",
"href": "sc:/pa/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pa/i",
"search": "",
"hash": ""
},
{
"input": "i",
"base": "sc://ho/pa",
"href": "sc://ho/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "ho",
"hostname": "ho",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "i",
"base": "sc:///pa/pa",
"href": "sc:///pa/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pa/i",
"search": "",
"hash": ""
},
{
"input": "../i",
"base": "sc:sd",
"failure": true
},
{
"input": "../i",
"base": "sc:sd/sd",
"failure": true
},
{
"input": "../i",
"base": "sc:/pa/pa",
"href": "sc:/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "../i",
"base": "sc://ho/pa",
"href": "sc://ho/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "ho",
"hostname": "ho",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "../i",
"base": "sc:///pa/pa",
"href": "sc:///i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "/i",
"base": "sc:sd",
"failure": true
},
{
"input": "/i",
"base": "sc:sd/sd",
"failure": true
},
{
"input": "/i",
"base": "sc:/pa/pa",
"href": "sc:/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "/i",
"base": "sc://ho/pa",
"href": "sc://ho/i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "ho",
"hostname": "ho",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "/i",
"base": "sc:///pa/pa",
"href": "sc:///i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/i",
"search": "",
"hash": ""
},
{
"input": "?i",
"base": "sc:sd",
"failure": true
},
{
"input": "?i",
"base": "sc:sd/sd",
"failure": true
},
{
"input": "?i",
"base": "sc:/pa/pa",
"href": "sc:/pa/pa?i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pa/pa",
"search": "?i",
"hash": ""
},
{
"input": "?i",
"base": "sc://ho/pa",
"href": "sc://ho/pa?i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "ho",
"hostname": "ho",
"port": "",
"pathname": "/pa",
"search": "?i",
"hash": ""
},
{
"input": "?i",
"base": "sc:///pa/pa",
"href": "sc:///pa/pa?i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pa/pa",
"search": "?i",
"hash": ""
},
{
"input": "#i",
"base": "sc:sd",
"href": "sc:sd#i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "sd",
"search": "",
"hash": "#i"
},
{
"input": "#i",
"base": "sc:sd/sd",
"href": "sc:sd/sd#i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "sd/sd",
"search": "",
"hash": "#i"
},
{
"input": "#i",
"base": "sc:/pa/pa",
"href": "sc:/pa/pa#i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pa/pa",
"search": "",
"hash": "#i"
},
{
"input": "#i",
"base": "sc://ho/pa",
"href": "sc://ho/pa#i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "ho",
"hostname": "ho",
"port": "",
"pathname": "/pa",
"search": "",
"hash": "#i"
},
{
"input": "#i",
"base": "sc:///pa/pa",
"href": "sc:///pa/pa#i",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pa/pa",
"search": "",
"hash": "#i"
},
{
"input": "about:/../",
"base": null,
"href": "about:/",
"origin": "null",
"protocol": "about:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "data:/../",
"base": null,
"href": "data:/",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "javascript:/../",
"base": null,
"href": "javascript:/",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "mailto:/../",
"base": null,
"href": "mailto:/",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "sc://\u00f1.test/",
"base": null,
"href": "sc://%C3%B1.test/",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1.test",
"hostname": "%C3%B1.test",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "sc://%/",
"base": null,
"href": "sc://%/",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%",
"hostname": "%",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "sc://@/",
"base": null,
"failure": true
},
{
"input": "sc://te@s:t@/",
"base": null,
"failure": true
},
{
"input": "sc://:/",
"base": null,
"failure": true
},
{
"input": "sc://:12/",
"base": null,
"failure": true
},
{
"input": "x",
"base": "sc://\u00f1",
"href": "sc://%C3%B1/x",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1",
"hostname": "%C3%B1",
"port": "",
"pathname": "/x",
"search": "",
"hash": ""
},
{
"input": "sc:\\../",
"base": null,
"href": "sc:\\../",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "\\../",
"search": "",
"hash": ""
},
{
"input": "sc::a@example.net",
"base": null,
"href": "sc::a@example.net",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": ":a@example.net",
"search": "",
"hash": ""
},
{
"input": "wow:%NBD",
"base": null,
"href": "wow:%NBD",
"origin": "null",
"protocol": "wow:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "%NBD",
"search": "",
"hash": ""
},
{
"input": "wow:%1G",
"base": null,
"href": "wow:%1G",
"origin": "null",
"protocol": "wow:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "%1G",
"search": "",
"hash": ""
},
{
"input": "wow:\uffff",
"base": null,
"href": "wow:%EF%BF%BF",
"origin": "null",
"protocol": "wow:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "%EF%BF%BF",
"search": "",
"hash": ""
},
{
"input": "sc://a\u0000b/",
"base": null,
"failure": true
},
{
"input": "sc://a b/",
"base": null,
"failure": true
},
{
"input": "sc://a<b",
"base": null,
"failure": true
},
{
"input": "sc://a>b",
"base": null,
"failure": true
},
{
"input": "sc://a[b/",
"base": null,
"failure": true
},
{
"input": "sc://a\\b/",
"base": null,
"failure": true
},
{
"input": "sc://a]b/",
"base": null,
"failure": true
},
{
"input": "sc://a^b",
"base": null,
"failure": true
},
{
"input": "sc://a|b/",
"base": null,
"failure": true
},
{
"input": "foo://ho\tst/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://host/",
"password": "",
"pathname": "/",
"port": "",
"protocol": "foo:",
"search": "",
"username": ""
},
{
"input": "foo://ho\nst/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://host/",
"password": "",
"pathname": "/",
"port": "",
"protocol": "foo:",
"search": "",
"username": ""
},
{
"input": "foo://ho\rst/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://host/",
"password": "",
"pathname": "/",
"port": "",
"protocol": "foo:",
"search": "",
"username": ""
},
{
"input": "http://a\u0000b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0001b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0002b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0003b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0004b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0005b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0006b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0007b/",
"base": null,
"failure": true
},
{
"input": "http://a\bb/",
"base": null,
"failure": true
},
{
"input": "http://a\u000bb/",
"base": null,
"failure": true
},
{
"input": "http://a\fb/",
"base": null,
"failure": true
},
{
"input": "http://a\u000eb/",
"base": null,
"failure": true
},
{
"input": "http://a\u000fb/",
"base": null,
"failure": true
},
{
"input": "http://a\u0010b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0011b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0012b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0013b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0014b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0015b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0016b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0017b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0018b/",
"base": null,
"failure": true
},
{
"input": "http://a\u0019b/",
"base": null,
"failure": true
},
{
"input": "http://a\u001ab/",
"base": null,
"failure": true
},
{
"input": "http://a\u001bb/",
"base": null,
"failure": true
},
{
"input": "http://a\u001cb/",
"base": null,
"failure": true
},
{
"input": "http://a\u001db/",
"base": null,
"failure": true
},
{
"input": "http://a\u001eb/",
"base": null,
"failure": true
},
{
"input": "http://a\u001fb/",
"base": null,
"failure": true
},
{
"input": "http://a b/",
"base": null,
"failure": true
},
{
"input": "http://a%b/",
"base": null,
"failure": true
},
{
"input": "http://a<b",
"base": null,
"failure": true
},
{
"input": "http://a>b",
"base": null,
"failure": true
},
{
"input": "http://a[b/",
"base": null,
"failure": true
},
{
"input": "http://a]b/",
"base": null,
"failure": true
},
{
"input": "http://a^b",
"base": null,
"failure": true
},
{
"input": "http://a|b/",
"base": null,
"failure": true
},
{
"input": "http://a\u007fb/",
"base": null,
"failure": true
},
{
"input": "http://ho\tst/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "http://host/",
"password": "",
"pathname": "/",
"port": "",
"protocol": "http:",
"search": "",
"username": ""
},
{
"input": "http://ho\nst/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "http://host/",
"password": "",
"pathname": "/",
"port": "",
"protocol": "http:",
"search": "",
"username": ""
},
{
"input": "http://ho\rst/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "http://host/",
"password": "",
"pathname": "/",
"port": "",
"protocol": "http:",
"search": "",
"username": ""
},
{
"input": "http://ho%00st/",
"base": null,
"failure": true
},
{
"input": "http://ho%01st/",
"base": null,
"failure": true
},
{
"input": "http://ho%02st/",
"base": null,
"failure": true
},
{
"input": "http://ho%03st/",
"base": null,
"failure": true
},
{
"input": "http://ho%04st/",
"base": null,
"failure": true
},
{
"input": "http://ho%05st/",
"base": null,
"failure": true
},
{
"input": "http://ho%06st/",
"base": null,
"failure": true
},
{
"input": "http://ho%07st/",
"base": null,
"failure": true
},
{
"input": "http://ho%08st/",
"base": null,
"failure": true
},
{
"input": "http://ho%09st/",
"base": null,
"failure": true
},
{
"input": "http://ho%0Ast/",
"base": null,
"failure": true
},
{
"input": "http://ho%0Bst/",
"base": null,
"failure": true
},
{
"input": "http://ho%0Cst/",
"base": null,
"failure": true
},
{
"input": "http://ho%0Dst/",
"base": null,
"failure": true
},
{
"input": "http://ho%0Est/",
"base": null,
"failure": true
},
{
"input": "http://ho%0Fst/",
"base": null,
"failure": true
},
{
"input": "http://ho%10st/",
"base": null,
"failure": true
},
{
"input": "http://ho%11st/",
"base": null,
"failure": true
},
{
"input": "http://ho%12st/",
"base": null,
"failure": true
},
{
"input": "http://ho%13st/",
"base": null,
"failure": true
},
{
"input": "http://ho%14st/",
"base": null,
"failure": true
},
{
"input": "http://ho%15st/",
"base": null,
"failure": true
},
{
"input": "http://ho%16st/",
"base": null,
"failure": true
},
{
"input": "http://ho%17st/",
"base": null,
"failure": true
},
{
"input": "http://ho%18st/",
"base": null,
"failure": true
},
{
"input": "http://ho%19st/",
"base": null,
"failure": true
},
{
"input": "http://ho%1Ast/",
"base": null,
"failure": true
},
{
"input": "http://ho%1Bst/",
"base": null,
"failure": true
},
{
"input": "http://ho%1Cst/",
"base": null,
"failure": true
},
{
"input": "http://ho%1Dst/",
"base": null,
"failure": true
},
{
"input": "http://ho%1Est/",
"base": null,
"failure": true
},
{
"input": "http://ho%1Fst/",
"base": null,
"failure": true
},
{
"input": "http://ho%20st/",
"base": null,
"failure": true
},
{
"input": "http://ho%23st/",
"base": null,
"failure": true
},
{
"input": "http://ho%25st/",
"base": null,
"failure": true
},
{
"input": "http://ho%2Fst/",
"base": null,
"failure": true
},
{
"input": "http://ho%3Ast/",
"base": null,
"failure": true
},
{
"input": "http://ho%3Cst/",
"base": null,
"failure": true
},
{
"input": "http://ho%3Est/",
"base": null,
"failure": true
},
{
"input": "http://ho%3Fst/",
"base": null,
"failure": true
},
{
"input": "http://ho%40st/",
"base": null,
"failure": true
},
{
"input": "http://ho%5Bst/",
"base": null,
"failure": true
},
{
"input": "http://ho%5Cst/",
"base": null,
"failure": true
},
{
"input": "http://ho%5Dst/",
"base": null,
"failure": true
},
{
"input": "http://ho%7Cst/",
"base": null,
"failure": true
},
{
"input": "http://ho%7Fst/",
"base": null,
"failure": true
},
{
"input": "http://!\"$&'()*+,-.;=_`{}~/",
"base": null,
"href": "http://!\"$&'()*+,-.;=_`{}~/",
"origin": "http://!\"$&'()*+,-.;=_`{}~",
"protocol": "http:",
"username": "",
"password": "",
"host": "!\"$&'()*+,-.;=_`{}~",
"hostname": "!\"$&'()*+,-.;=_`{}~",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "sc://\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\u000b\f\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f!\"$%&'()*+,-.;=_`{}~/",
"base": null,
"href": "sc://%01%02%03%04%05%06%07%08%0B%0C%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%7F!\"$%&'()*+,-.;=_`{}~/",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%01%02%03%04%05%06%07%08%0B%0C%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%7F!\"$%&'()*+,-.;=_`{}~",
"hostname": "%01%02%03%04%05%06%07%08%0B%0C%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%7F!\"$%&'()*+,-.;=_`{}~",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ftp://example.com%80/",
"base": null,
"failure": true
},
{
"input": "ftp://example.com%A0/",
"base": null,
"failure": true
},
{
"input": "https://example.com%80/",
"base": null,
"failure": true
},
{
"input": "https://example.com%A0/",
"base": null,
"failure": true
},
{
"input": "ftp://%e2%98%83",
"base": null,
"href": "ftp://xn--n3h/",
"origin": "ftp://xn--n3h",
"protocol": "ftp:",
"username": "",
"password": "",
"host": "xn--n3h",
"hostname": "xn--n3h",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://%e2%98%83",
"base": null,
"href": "https://xn--n3h/",
"origin": "https://xn--n3h",
"protocol": "https:",
"username": "",
"password": "",
"host": "xn--n3h",
"hostname": "xn--n3h",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://127.0.0.1:10100/relative_import.html",
"base": null,
"href": "http://127.0.0.1:10100/relative_import.html",
"origin": "http://127.0.0.1:10100",
"protocol": "http:",
"username": "",
"password": "",
"host": "127.0.0.1:10100",
"hostname": "127.0.0.1",
"port": "10100",
"pathname": "/relative_import.html",
"search": "",
"hash": ""
},
{
"input": "http://facebook.com/?foo=%7B%22abc%22",
"base": null,
"href": "http://facebook.com/?foo=%7B%22abc%22",
"origin": "http://facebook.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "facebook.com",
"hostname": "facebook.com",
"port": "",
"pathname": "/",
"search": "?foo=%7B%22abc%22",
"hash": ""
},
{
"input": "https://localhost:3000/jqueryui@1.2.3",
"base": null,
"href": "https://localhost:3000/jqueryui@1.2.3",
"origin": "https://localhost:3000",
"protocol": "https:",
"username": "",
"password": "",
"host": "localhost:3000",
"hostname": "localhost",
"port": "3000",
"pathname": "/jqueryui@1.2.3",
"search": "",
"hash": ""
},
{
"input": "h\tt\nt\rp://h\to\ns\rt:9\t0\n0\r0/p\ta\nt\rh?q\tu\ne\rry#f\tr\na\rg",
"base": null,
"href": "http://host:9000/path?query#frag",
"origin": "http://host:9000",
"protocol": "http:",
"username": "",
"password": "",
"host": "host:9000",
"hostname": "host",
"port": "9000",
"pathname": "/path",
"search": "?query",
"hash": "#frag"
},
{
"input": "?a=b&c=d",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar?a=b&c=d",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "?a=b&c=d",
"searchParams": "a=b&c=d",
"hash": ""
},
{
"input": "??a=b&c=d",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar??a=b&c=d",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "??a=b&c=d",
"searchParams": "%3Fa=b&c=d",
"hash": ""
},
{
"input": "http:",
"base": "http://example.org/foo/bar",
"href": "http://example.org/foo/bar",
"origin": "http://example.org",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/foo/bar",
"search": "",
"searchParams": "",
"hash": ""
},
{
"input": "http:",
"base": "https://example.org/foo/bar",
"failure": true
},
{
"input": "sc:",
"base": "https://example.org/foo/bar",
"href": "sc:",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "",
"search": "",
"searchParams": "",
"hash": ""
},
{
"input": "http://foo.bar/baz?qux#foo\bbar",
"base": null,
"href": "http://foo.bar/baz?qux#foo%08bar",
"origin": "http://foo.bar",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.bar",
"hostname": "foo.bar",
"port": "",
"pathname": "/baz",
"search": "?qux",
"searchParams": "qux=",
"hash": "#foo%08bar"
},
{
"input": "http://foo.bar/baz?qux#foo\"bar",
"base": null,
"href": "http://foo.bar/baz?qux#foo%22bar",
"origin": "http://foo.bar",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.bar",
"hostname": "foo.bar",
"port": "",
"pathname": "/baz",
"search": "?qux",
"searchParams": "qux=",
"hash": "#foo%22bar"
},
{
"input": "http://foo.bar/baz?qux#foo<bar",
"base": null,
"href": "http://foo.bar/baz?qux#foo%3Cbar",
"origin": "http://foo.bar",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.bar",
"hostname": "foo.bar",
"port": "",
"pathname": "/baz",
"search": "?qux",
"searchParams": "qux=",
"hash": "#foo%3Cbar"
},
{
"input": "http://foo.bar/baz?qux#foo>bar",
"base": null,
"href": "http://foo.bar/baz?qux#foo%3Ebar",
"origin": "http://foo.bar",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.bar",
"hostname": "foo.bar",
"port": "",
"pathname": "/baz",
"search": "?qux",
"searchParams": "qux=",
"hash": "#foo%3Ebar"
},
{
"input": "http://foo.bar/baz?qux#foo`bar",
"base": null,
"href": "http://foo.bar/baz?qux#foo%60bar",
"origin": "http://foo.bar",
"protocol": "http:",
"username": "",
"password": "",
"host": "foo.bar",
"hostname": "foo.bar",
"port": "",
"pathname": "/baz",
"search": "?qux",
"searchParams": "qux=",
"hash": "#foo%60bar"
},
{
"input": "http://1.2.3.4/",
"base": "http://other.com/",
"href": "http://1.2.3.4/",
"origin": "http://1.2.3.4",
"protocol": "http:",
"username": "",
"password": "",
"host": "1.2.3.4",
"hostname": "1.2.3.4",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://1.2.3.4./",
"base": "http://other.com/",
"href": "http://1.2.3.4/",
"origin": "http://1.2.3.4",
"protocol": "http:",
"username": "",
"password": "",
"host": "1.2.3.4",
"hostname": "1.2.3.4",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://192.168.257",
"base": "http://other.com/",
"href": "http://192.168.1.1/",
"origin": "http://192.168.1.1",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.1.1",
"hostname": "192.168.1.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://192.168.257.",
"base": "http://other.com/",
"href": "http://192.168.1.1/",
"origin": "http://192.168.1.1",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.1.1",
"hostname": "192.168.1.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://192.168.257.com",
"base": "http://other.com/",
"href": "http://192.168.257.com/",
"origin": "http://192.168.257.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "192.168.257.com",
"hostname": "192.168.257.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://256",
"base": "http://other.com/",
"href": "http://0.0.1.0/",
"origin": "http://0.0.1.0",
"protocol": "http:",
"username": "",
"password": "",
"host": "0.0.1.0",
"hostname": "0.0.1.0",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://256.com",
"base": "http://other.com/",
"href": "http://256.com/",
"origin": "http://256.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "256.com",
"hostname": "256.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://999999999",
"base": "http://other.com/",
"href": "http://59.154.201.255/",
"origin": "http://59.154.201.255",
"protocol": "http:",
"username": "",
"password": "",
"host": "59.154.201.255",
"hostname": "59.154.201.255",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://999999999.",
"base": "http://other.com/",
"href": "http://59.154.201.255/",
"origin": "http://59.154.201.255",
"protocol": "http:",
"username": "",
"password": "",
"host": "59.154.201.255",
"hostname": "59.154.201.255",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://999999999.com",
"base": "http://other.com/",
"href": "http://999999999.com/",
"origin": "http://999999999.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "999999999.com",
"hostname": "999999999.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://10000000000",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://10000000000.com",
"base": "http://other.com/",
"href": "http://10000000000.com/",
"origin": "http://10000000000.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "10000000000.com",
"hostname": "10000000000.com",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://4294967295",
"base": "http://other.com/",
"href": "http://255.255.255.255/",
"origin": "http://255.255.255.255",
"protocol": "http:",
"username": "",
"password": "",
"host": "255.255.255.255",
"hostname": "255.255.255.255",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://4294967296",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://18446744073709551616",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://18446744075840258049",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://0xffffffff",
"base": "http://other.com/",
"href": "http://255.255.255.255/",
"origin": "http://255.255.255.255",
"protocol": "http:",
"username": "",
"password": "",
"host": "255.255.255.255",
"hostname": "255.255.255.255",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://0xffffffff1",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://256.256.256.256",
"base": "http://other.com/",
"failure": true
},
{
"input": "https://0x.0x.0",
"base": null,
"href": "https://0.0.0.0/",
"origin": "https://0.0.0.0",
"protocol": "https:",
"username": "",
"password": "",
"host": "0.0.0.0",
"hostname": "0.0.0.0",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://0x.0x.0x.0x",
"base": null,
"href": "https://0.0.0.0/",
"origin": "https://0.0.0.0",
"protocol": "https:",
"username": "",
"password": "",
"host": "0.0.0.0",
"hostname": "0.0.0.0",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://00.00.00.00",
"base": null,
"href": "https://0.0.0.0/",
"origin": "https://0.0.0.0",
"protocol": "https:",
"username": "",
"password": "",
"host": "0.0.0.0",
"hostname": "0.0.0.0",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://0000000000000000000000000000000000000000177.0.0.1",
"base": null,
"href": "https://127.0.0.1/",
"origin": "https://127.0.0.1",
"protocol": "https:",
"username": "",
"password": "",
"host": "127.0.0.1",
"hostname": "127.0.0.1",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "https://0x100000000/test",
"base": null,
"failure": true
},
{
"input": "https://256.0.0.1/test",
"base": null,
"failure": true
},
{
"input": "file:///C%3A/",
"base": null,
"href": "file:///C%3A/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C%3A/",
"search": "",
"hash": ""
},
{
"input": "file:///C%7C/",
"base": null,
"href": "file:///C%7C/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C%7C/",
"search": "",
"hash": ""
},
{
"input": "file://%43%3A",
"base": null,
"failure": true
},
{
"input": "file://%43%7C",
"base": null,
"failure": true
},
{
"input": "file://%43|",
"base": null,
"failure": true
},
{
"input": "file://C%7C",
"base": null,
"failure": true
},
{
"input": "file://%43%7C/",
"base": null,
"failure": true
},
{
"input": "https://%43%7C/",
"base": null,
"failure": true
},
{
"input": "asdf://%43|/",
"base": null,
"failure": true
},
{
"input": "asdf://%43%7C/",
"base": null,
"href": "asdf://%43%7C/",
"origin": "null",
"protocol": "asdf:",
"username": "",
"password": "",
"host": "%43%7C",
"hostname": "%43%7C",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "pix/submit.gif",
"base": "file:///C:/Users/Domenic/Dropbox/GitHub/tmpvar/jsdom/test/level2/html/files/anchor.html",
"href": "file:///C:/Users/Domenic/Dropbox/GitHub/tmpvar/jsdom/test/level2/html/files/pix/submit.gif",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/Users/Domenic/Dropbox/GitHub/tmpvar/jsdom/test/level2/html/files/pix/submit.gif",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "file:///C:/",
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "file:///",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "/",
"base": "file:///C:/a/b",
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "/",
"base": "file://h/C:/a/b",
"href": "file://h/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "h",
"hostname": "h",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "/",
"base": "file://h/a/b",
"href": "file://h/",
"protocol": "file:",
"username": "",
"password": "",
"host": "h",
"hostname": "h",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "//d:",
"base": "file:///C:/a/b",
"href": "file:///d:",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/d:",
"search": "",
"hash": ""
},
{
"input": "//d:/..",
"base": "file:///C:/a/b",
"href": "file:///d:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/d:/",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "file:///ab:/",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "file:///1:/",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "",
"base": "file:///test?test#test",
"href": "file:///test?test",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?test",
"hash": ""
},
{
"input": "file:",
"base": "file:///test?test#test",
"href": "file:///test?test",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?test",
"hash": ""
},
{
"input": "?x",
"base": "file:///test?test#test",
"href": "file:///test?x",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?x",
"hash": ""
},
{
"input": "file:?x",
"base": "file:///test?test#test",
"href": "file:///test?x",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?x",
"hash": ""
},
{
"input": "#x",
"base": "file:///test?test#test",
"href": "file:///test?test#x",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?test",
"hash": "#x"
},
{
"input": "file:#x",
"base": "file:///test?test#test",
"href": "file:///test?test#x",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?test",
"hash": "#x"
},
{
"input": "file:\\\\//",
"base": null,
"href": "file:////",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "file:\\\\\\\\",
"base": null,
"href": "file:////",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "file:\\\\\\\\?fox",
"base": null,
"href": "file:////?fox",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "?fox",
"hash": ""
},
{
"input": "file:\\\\\\\\#guppy",
"base": null,
"href": "file:////#guppy",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": "#guppy"
},
{
"input": "file://spider///",
"base": null,
"href": "file://spider///",
"protocol": "file:",
"username": "",
"password": "",
"host": "spider",
"hostname": "spider",
"port": "",
"pathname": "///",
"search": "",
"hash": ""
},
{
"input": "file:\\\\localhost//",
"base": null,
"href": "file:////",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "file:///localhost//cat",
"base": null,
"href": "file:///localhost//cat",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/localhost//cat",
"search": "",
"hash": ""
},
{
"input": "file://\\/localhost//cat",
"base": null,
"href": "file:////localhost//cat",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//localhost//cat",
"search": "",
"hash": ""
},
{
"input": "file://localhost//a//../..//",
"base": null,
"href": "file://///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "///",
"search": "",
"hash": ""
},
{
"input": "/////mouse",
"base": "file:///elephant",
"href": "file://///mouse",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "///mouse",
"search": "",
"hash": ""
},
{
"input": "\\//pig",
"base": "file://lion/",
"href": "file:///pig",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/pig",
"search": "",
"hash": ""
},
{
"input": "\\/localhost//pig",
"base": "file://lion/",
"href": "file:////pig",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//pig",
"search": "",
"hash": ""
},
{
"input": "//localhost//pig",
"base": "file://lion/",
"href": "file:////pig",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//pig",
"search": "",
"hash": ""
},
{
"input": "/..//localhost//pig",
"base": "file://lion/",
"href": "file://lion//localhost//pig",
"protocol": "file:",
"username": "",
"password": "",
"host": "lion",
"hostname": "lion",
"port": "",
"pathname": "//localhost//pig",
"search": "",
"hash": ""
},
{
"input": "file://",
"base": "file://ape/",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "/rooibos",
"base": "file://tea/",
"href": "file://tea/rooibos",
"protocol": "file:",
"username": "",
"password": "",
"host": "tea",
"hostname": "tea",
"port": "",
"pathname": "/rooibos",
"search": "",
"hash": ""
},
{
"input": "/?chai",
"base": "file://tea/",
"href": "file://tea/?chai",
"protocol": "file:",
"username": "",
"password": "",
"host": "tea",
"hostname": "tea",
"port": "",
"pathname": "/",
"search": "?chai",
"hash": ""
},
{
"input": "C|",
"base": "file://host/dir/file",
"href": "file://host/C:",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:",
"search": "",
"hash": ""
},
{
"input": "C|",
"base": "file://host/D:/dir1/dir2/file",
"href": "file://host/C:",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:",
"search": "",
"hash": ""
},
{
"input": "C|#",
"base": "file://host/dir/file",
"href": "file://host/C:#",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:",
"search": "",
"hash": ""
},
{
"input": "C|?",
"base": "file://host/dir/file",
"href": "file://host/C:?",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:",
"search": "",
"hash": ""
},
{
"input": "C|/",
"base": "file://host/dir/file",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "C|\n/",
"base": "file://host/dir/file",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "C|\\",
"base": "file://host/dir/file",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "C",
"base": "file://host/dir/file",
"href": "file://host/dir/C",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/dir/C",
"search": "",
"hash": ""
},
{
"input": "C|a",
"base": "file://host/dir/file",
"href": "file://host/dir/C|a",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/dir/C|a",
"search": "",
"hash": ""
},
{
"input": "/c:/foo/bar",
"base": "file:///c:/baz/qux",
"href": "file:///c:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/c:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "/c|/foo/bar",
"base": "file:///c:/baz/qux",
"href": "file:///c:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/c:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "file:\\c:\\foo\\bar",
"base": "file:///c:/baz/qux",
"href": "file:///c:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/c:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "/c:/foo/bar",
"base": "file://host/path",
"href": "file://host/c:/foo/bar",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/c:/foo/bar",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "abc://x/y/z/C:/",
"href": "abc://x/y/z/",
"protocol": "abc:",
"username": "",
"password": "",
"hostname": "x",
"port": "",
"host": "x",
"pathname": "/y/z/",
"search": "",
"hash": ""
},
{
"input": "..",
"base": "file://x/C:/",
"href": "file://x/C:/",
"protocol": "file:",
"username": "",
"password": "",
"hostname": "x",
"port": "",
"host": "x",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file://example.net/C:/",
"base": null,
"href": "file://example.net/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "example.net",
"hostname": "example.net",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file://1.2.3.4/C:/",
"base": null,
"href": "file://1.2.3.4/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "1.2.3.4",
"hostname": "1.2.3.4",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file://[1::8]/C:/",
"base": null,
"href": "file://[1::8]/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "[1::8]",
"hostname": "[1::8]",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "C|/",
"base": "file://host/",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "/C:/",
"base": "file://host/",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file:C:/",
"base": "file://host/",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file:/C:/",
"base": "file://host/",
"href": "file://host/C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "//C:/",
"base": "file://host/",
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file://C:/",
"base": "file://host/",
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "///C:/",
"base": "file://host/",
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file:///C:/",
"base": "file://host/",
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file:/C|/",
"base": null,
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file://C|/",
"base": null,
"href": "file:///C:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/C:/",
"search": "",
"hash": ""
},
{
"input": "file:",
"base": null,
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "file:?q=v",
"base": null,
"href": "file:///?q=v",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "?q=v",
"hash": ""
},
{
"input": "file:#frag",
"base": null,
"href": "file:///#frag",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": "#frag"
},
{
"input": "file:///Y:",
"base": null,
"href": "file:///Y:",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/Y:",
"search": "",
"hash": ""
},
{
"input": "file:///Y:/",
"base": null,
"href": "file:///Y:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/Y:/",
"search": "",
"hash": ""
},
{
"input": "file:///./Y",
"base": null,
"href": "file:///Y",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/Y",
"search": "",
"hash": ""
},
{
"input": "file:///./Y:",
"base": null,
"href": "file:///Y:",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/Y:",
"search": "",
"hash": ""
},
{
"input": "\\\\\\.\\Y:",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "file:///y:",
"base": null,
"href": "file:///y:",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/y:",
"search": "",
"hash": ""
},
{
"input": "file:///y:/",
"base": null,
"href": "file:///y:/",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/y:/",
"search": "",
"hash": ""
},
{
"input": "file:///./y",
"base": null,
"href": "file:///y",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/y",
"search": "",
"hash": ""
},
{
"input": "file:///./y:",
"base": null,
"href": "file:///y:",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/y:",
"search": "",
"hash": ""
},
{
"input": "\\\\\\.\\y:",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "file://localhost//a//../..//foo",
"base": null,
"href": "file://///foo",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "///foo",
"search": "",
"hash": ""
},
{
"input": "file://localhost////foo",
"base": null,
"href": "file://////foo",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "////foo",
"search": "",
"hash": ""
},
{
"input": "file:////foo",
"base": null,
"href": "file:////foo",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//foo",
"search": "",
"hash": ""
},
{
"input": "file:///one/two",
"base": "file:///",
"href": "file:///one/two",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/one/two",
"search": "",
"hash": ""
},
{
"input": "file:////one/two",
"base": "file:///",
"href": "file:////one/two",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//one/two",
"search": "",
"hash": ""
},
{
"input": "//one/two",
"base": "file:///",
"href": "file://one/two",
"protocol": "file:",
"username": "",
"password": "",
"host": "one",
"hostname": "one",
"port": "",
"pathname": "/two",
"search": "",
"hash": ""
},
{
"input": "///one/two",
"base": "file:///",
"href": "file:///one/two",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/one/two",
"search": "",
"hash": ""
},
{
"input": "////one/two",
"base": "file:///",
"href": "file:////one/two",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//one/two",
"search": "",
"hash": ""
},
{
"input": "file:///.//",
"base": "file:////",
"href": "file:////",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "file:.//p",
"base": null,
"href": "file:////p",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//p",
"search": "",
"hash": ""
},
{
"input": "file:/.//p",
"base": null,
"href": "file:////p",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//p",
"search": "",
"hash": ""
},
{
"input": "http://[1:0::]",
"base": "http://example.net/",
"href": "http://[1::]/",
"origin": "http://[1::]",
"protocol": "http:",
"username": "",
"password": "",
"host": "[1::]",
"hostname": "[1::]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://[0:1:2:3:4:5:6:7:8]",
"base": "http://example.net/",
"failure": true
},
{
"input": "https://[0::0::0]",
"base": null,
"failure": true
},
{
"input": "https://[0:.0]",
"base": null,
"failure": true
},
{
"input": "https://[0:0:]",
"base": null,
"failure": true
},
{
"input": "https://[0:1:2:3:4:5:6:7.0.0.0.1]",
"base": null,
"failure": true
},
{
"input": "https://[0:1.00.0.0.0]",
"base": null,
"failure": true
},
{
"input": "https://[0:1.290.0.0.0]",
"base": null,
"failure": true
},
{
"input": "https://[0:1.23.23]",
"base": null,
"failure": true
},
{
"input": "http://?",
"base": null,
"failure": true
},
{
"input": "http://#",
"base": null,
"failure": true
},
{
"input": "http://f:4294967377/c",
"base": "http://example.org/",
"failure": true
},
{
"input": "http://f:18446744073709551697/c",
"base": "http://example.org/",
"failure": true
},
{
"input": "http://f:340282366920938463463374607431768211537/c",
"base": "http://example.org/",
"failure": true
},
{
"input": "sc://\u00f1",
"base": null,
"href": "sc://%C3%B1",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1",
"hostname": "%C3%B1",
"port": "",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "sc://\u00f1?x",
"base": null,
"href": "sc://%C3%B1?x",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1",
"hostname": "%C3%B1",
"port": "",
"pathname": "",
"search": "?x",
"hash": ""
},
{
"input": "sc://\u00f1#x",
"base": null,
"href": "sc://%C3%B1#x",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1",
"hostname": "%C3%B1",
"port": "",
"pathname": "",
"search": "",
"hash": "#x"
},
{
"input": "#x",
"base": "sc://\u00f1",
"href": "sc://%C3%B1#x",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1",
"hostname": "%C3%B1",
"port": "",
"pathname": "",
"search": "",
"hash": "#x"
},
{
"input": "?x",
"base": "sc://\u00f1",
"href": "sc://%C3%B1?x",
"origin": "null",
"protocol": "sc:",
"username": "",
"password": "",
"host": "%C3%B1",
"hostname": "%C3%B1",
"port": "",
"pathname": "",
"search": "?x",
"hash": ""
},
{
"input": "sc://?",
"base": null,
"href": "sc://?",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "sc://#",
"base": null,
"href": "sc://#",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "///",
"base": "sc://x/",
"href": "sc:///",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "////",
"base": "sc://x/",
"href": "sc:////",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "////x/",
"base": "sc://x/",
"href": "sc:////x/",
"protocol": "sc:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//x/",
"search": "",
"hash": ""
},
{
"input": "tftp://foobar.com/someconfig;mode=netascii",
"base": null,
"href": "tftp://foobar.com/someconfig;mode=netascii",
"origin": "null",
"protocol": "tftp:",
"username": "",
"password": "",
"host": "foobar.com",
"hostname": "foobar.com",
"port": "",
"pathname": "/someconfig;mode=netascii",
"search": "",
"hash": ""
},
{
"input": "telnet://user:pass@foobar.com:23/",
"base": null,
"href": "telnet://user:pass@foobar.com:23/",
"origin": "null",
"protocol": "telnet:",
"username": "user",
"password": "pass",
"host": "foobar.com:23",
"hostname": "foobar.com",
"port": "23",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "ut2004://10.10.10.10:7777/Index.ut2",
"base": null,
"href": "ut2004://10.10.10.10:7777/Index.ut2",
"origin": "null",
"protocol": "ut2004:",
"username": "",
"password": "",
"host": "10.10.10.10:7777",
"hostname": "10.10.10.10",
"port": "7777",
"pathname": "/Index.ut2",
"search": "",
"hash": ""
},
{
"input": "redis://foo:bar@somehost:6379/0?baz=bam&qux=baz",
"base": null,
"href": "redis://foo:bar@somehost:6379/0?baz=bam&qux=baz",
"origin": "null",
"protocol": "redis:",
"username": "foo",
"password": "bar",
"host": "somehost:6379",
"hostname": "somehost",
"port": "6379",
"pathname": "/0",
"search": "?baz=bam&qux=baz",
"hash": ""
},
{
"input": "rsync://foo@host:911/sup",
"base": null,
"href": "rsync://foo@host:911/sup",
"origin": "null",
"protocol": "rsync:",
"username": "foo",
"password": "",
"host": "host:911",
"hostname": "host",
"port": "911",
"pathname": "/sup",
"search": "",
"hash": ""
},
{
"input": "git://github.com/foo/bar.git",
"base": null,
"href": "git://github.com/foo/bar.git",
"origin": "null",
"protocol": "git:",
"username": "",
"password": "",
"host": "github.com",
"hostname": "github.com",
"port": "",
"pathname": "/foo/bar.git",
"search": "",
"hash": ""
},
{
"input": "irc://myserver.com:6999/channel?passwd",
"base": null,
"href": "irc://myserver.com:6999/channel?passwd",
"origin": "null",
"protocol": "irc:",
"username": "",
"password": "",
"host": "myserver.com:6999",
"hostname": "myserver.com",
"port": "6999",
"pathname": "/channel",
"search": "?passwd",
"hash": ""
},
{
"input": "dns://fw.example.org:9999/foo.bar.org?type=TXT",
"base": null,
"href": "dns://fw.example.org:9999/foo.bar.org?type=TXT",
"origin": "null",
"protocol": "dns:",
"username": "",
"password": "",
"host": "fw.example.org:9999",
"hostname": "fw.example.org",
"port": "9999",
"pathname": "/foo.bar.org",
"search": "?type=TXT",
"hash": ""
},
{
"input": "ldap://localhost:389/ou=People,o=JNDITutorial",
"base": null,
"href": "ldap://localhost:389/ou=People,o=JNDITutorial",
"origin": "null",
"protocol": "ldap:",
"username": "",
"password": "",
"host": "localhost:389",
"hostname": "localhost",
"port": "389",
"pathname": "/ou=People,o=JNDITutorial",
"search": "",
"hash": ""
},
{
"input": "git+https://github.com/foo/bar",
"base": null,
"href": "git+https://github.com/foo/bar",
"origin": "null",
"protocol": "git+https:",
"username": "",
"password": "",
"host": "github.com",
"hostname": "github.com",
"port": "",
"pathname": "/foo/bar",
"search": "",
"hash": ""
},
{
"input": "urn:ietf:rfc:2648",
"base": null,
"href": "urn:ietf:rfc:2648",
"origin": "null",
"protocol": "urn:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "ietf:rfc:2648",
"search": "",
"hash": ""
},
{
"input": "tag:joe@example.org,2001:foo/bar",
"base": null,
"href": "tag:joe@example.org,2001:foo/bar",
"origin": "null",
"protocol": "tag:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "joe@example.org,2001:foo/bar",
"search": "",
"hash": ""
},
{
"input": "non-spec:/.//",
"base": null,
"href": "non-spec:/.//",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "non-spec:/..//",
"base": null,
"href": "non-spec:/.//",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "non-spec:/a/..//",
"base": null,
"href": "non-spec:/.//",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//",
"search": "",
"hash": ""
},
{
"input": "non-spec:/.//path",
"base": null,
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "non-spec:/..//path",
"base": null,
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "non-spec:/a/..//path",
"base": null,
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "/.//path",
"base": "non-spec:/p",
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "/..//path",
"base": "non-spec:/p",
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "..//path",
"base": "non-spec:/p",
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "a/..//path",
"base": "non-spec:/p",
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "",
"base": "non-spec:/..//p",
"href": "non-spec:/.//p",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//p",
"search": "",
"hash": ""
},
{
"input": "path",
"base": "non-spec:/..//p",
"href": "non-spec:/.//path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "//path",
"search": "",
"hash": ""
},
{
"input": "../path",
"base": "non-spec:/.//p",
"href": "non-spec:/path",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/path",
"search": "",
"hash": ""
},
{
"input": "non-special://%E2%80%A0/",
"base": null,
"href": "non-special://%E2%80%A0/",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "%E2%80%A0",
"hostname": "%E2%80%A0",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special://H%4fSt/path",
"base": null,
"href": "non-special://H%4fSt/path",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "H%4fSt",
"hostname": "H%4fSt",
"port": "",
"pathname": "/path",
"search": "",
"hash": ""
},
{
"input": "non-special://[1:2:0:0:5:0:0:0]/",
"base": null,
"href": "non-special://[1:2:0:0:5::]/",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "[1:2:0:0:5::]",
"hostname": "[1:2:0:0:5::]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special://[1:2:0:0:0:0:0:3]/",
"base": null,
"href": "non-special://[1:2::3]/",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "[1:2::3]",
"hostname": "[1:2::3]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special://[1:2::3]:80/",
"base": null,
"href": "non-special://[1:2::3]:80/",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "[1:2::3]:80",
"hostname": "[1:2::3]",
"port": "80",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special://[:80/",
"base": null,
"failure": true
},
{
"input": "blob:https://example.com:443/",
"base": null,
"href": "blob:https://example.com:443/",
"origin": "https://example.com",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "https://example.com:443/",
"search": "",
"hash": ""
},
{
"input": "blob:http://example.org:88/",
"base": null,
"href": "blob:http://example.org:88/",
"origin": "http://example.org:88",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "http://example.org:88/",
"search": "",
"hash": ""
},
{
"input": "blob:d3958f5c-0777-0845-9dcf-2cb28783acaf",
"base": null,
"href": "blob:d3958f5c-0777-0845-9dcf-2cb28783acaf",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "d3958f5c-0777-0845-9dcf-2cb28783acaf",
"search": "",
"hash": ""
},
{
"input": "blob:",
"base": null,
"href": "blob:",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "blob:blob:",
"base": null,
"href": "blob:blob:",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "blob:",
"search": "",
"hash": ""
},
{
"input": "blob:blob:https://example.org/",
"base": null,
"href": "blob:blob:https://example.org/",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "blob:https://example.org/",
"search": "",
"hash": ""
},
{
"input": "blob:about:blank",
"base": null,
"href": "blob:about:blank",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "about:blank",
"search": "",
"hash": ""
},
{
"input": "blob:file://host/path",
"base": null,
"href": "blob:file://host/path",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "file://host/path",
"search": "",
"hash": ""
},
{
"input": "blob:ftp://host/path",
"base": null,
"href": "blob:ftp://host/path",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "ftp://host/path",
"search": "",
"hash": ""
},
{
"input": "blob:ws://example.org/",
"base": null,
"href": "blob:ws://example.org/",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "ws://example.org/",
"search": "",
"hash": ""
},
{
"input": "blob:wss://example.org/",
"base": null,
"href": "blob:wss://example.org/",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "wss://example.org/",
"search": "",
"hash": ""
},
{
"input": "blob:http%3a//example.org/",
"base": null,
"href": "blob:http%3a//example.org/",
"origin": "null",
"protocol": "blob:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "http%3a//example.org/",
"search": "",
"hash": ""
},
{
"input": "http://0x7f.0.0.0x7g",
"base": null,
"href": "http://0x7f.0.0.0x7g/",
"protocol": "http:",
"username": "",
"password": "",
"host": "0x7f.0.0.0x7g",
"hostname": "0x7f.0.0.0x7g",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://0X7F.0.0.0X7G",
"base": null,
"href": "http://0x7f.0.0.0x7g/",
"protocol": "http:",
"username": "",
"password": "",
"host": "0x7f.0.0.0x7g",
"hostname": "0x7f.0.0.0x7g",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://[::127.0.0.0.1]",
"base": null,
"failure": true
},
{
"input": "http://[0:1:0:1:0:1:0:1]",
"base": null,
"href": "http://[0:1:0:1:0:1:0:1]/",
"protocol": "http:",
"username": "",
"password": "",
"host": "[0:1:0:1:0:1:0:1]",
"hostname": "[0:1:0:1:0:1:0:1]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://[1:0:1:0:1:0:1:0]",
"base": null,
"href": "http://[1:0:1:0:1:0:1:0]/",
"protocol": "http:",
"username": "",
"password": "",
"host": "[1:0:1:0:1:0:1:0]",
"hostname": "[1:0:1:0:1:0:1:0]",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "http://example.org/test?\"",
"base": null,
"href": "http://example.org/test?%22",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?%22",
"hash": ""
},
{
"input": "http://example.org/test?#",
"base": null,
"href": "http://example.org/test?#",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "http://example.org/test?<",
"base": null,
"href": "http://example.org/test?%3C",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?%3C",
"hash": ""
},
{
"input": "http://example.org/test?>",
"base": null,
"href": "http://example.org/test?%3E",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?%3E",
"hash": ""
},
{
"input": "http://example.org/test?\u2323",
"base": null,
"href": "http://example.org/test?%E2%8C%A3",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?%E2%8C%A3",
"hash": ""
},
{
"input": "http://example.org/test?%23%23",
"base": null,
"href": "http://example.org/test?%23%23",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?%23%23",
"hash": ""
},
{
"input": "http://example.org/test?%GH",
"base": null,
"href": "http://example.org/test?%GH",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?%GH",
"hash": ""
},
{
"input": "http://example.org/test?a#%EF",
"base": null,
"href": "http://example.org/test?a#%EF",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?a",
"hash": "#%EF"
},
{
"input": "http://example.org/test?a#%GH",
"base": null,
"href": "http://example.org/test?a#%GH",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?a",
"hash": "#%GH"
},
{
"input": "a",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "a/",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "a//",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "test-a-colon.html",
"base": "a:",
"failure": true
},
{
"input": "test-a-colon-b.html",
"base": "a:b",
"failure": true
},
{
"input": "test-a-colon-slash.html",
"base": "a:/",
"href": "a:/test-a-colon-slash.html",
"protocol": "a:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test-a-colon-slash.html",
"search": "",
"hash": ""
},
{
"input": "test-a-colon-slash-slash.html",
"base": "a://",
"href": "a:///test-a-colon-slash-slash.html",
"protocol": "a:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test-a-colon-slash-slash.html",
"search": "",
"hash": ""
},
{
"input": "test-a-colon-slash-b.html",
"base": "a:/b",
"href": "a:/test-a-colon-slash-b.html",
"protocol": "a:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test-a-colon-slash-b.html",
"search": "",
"hash": ""
},
{
"input": "test-a-colon-slash-slash-b.html",
"base": "a://b",
"href": "a://b/test-a-colon-slash-slash-b.html",
"protocol": "a:",
"username": "",
"password": "",
"host": "b",
"hostname": "b",
"port": "",
"pathname": "/test-a-colon-slash-slash-b.html",
"search": "",
"hash": ""
},
{
"input": "http://example.org/test?a#b\u0000c",
"base": null,
"href": "http://example.org/test?a#b%00c",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?a",
"hash": "#b%00c"
},
{
"input": "non-spec://example.org/test?a#b\u0000c",
"base": null,
"href": "non-spec://example.org/test?a#b%00c",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/test",
"search": "?a",
"hash": "#b%00c"
},
{
"input": "non-spec:/test?a#b\u0000c",
"base": null,
"href": "non-spec:/test?a#b%00c",
"protocol": "non-spec:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "?a",
"hash": "#b%00c"
},
{
"input": "10.0.0.7:8080/foo.html",
"base": "file:///some/dir/bar.html",
"href": "file:///some/dir/10.0.0.7:8080/foo.html",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/some/dir/10.0.0.7:8080/foo.html",
"search": "",
"hash": ""
},
{
"input": "a!@$*=/foo.html",
"base": "file:///some/dir/bar.html",
"href": "file:///some/dir/a!@$*=/foo.html",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/some/dir/a!@$*=/foo.html",
"search": "",
"hash": ""
},
{
"input": "a1234567890-+.:foo/bar",
"base": "http://example.com/dir/file",
"href": "a1234567890-+.:foo/bar",
"protocol": "a1234567890-+.:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "foo/bar",
"search": "",
"hash": ""
},
{
"input": "file://a\u00adb/p",
"base": null,
"href": "file://ab/p",
"protocol": "file:",
"username": "",
"password": "",
"host": "ab",
"hostname": "ab",
"port": "",
"pathname": "/p",
"search": "",
"hash": ""
},
{
"input": "file://a%C2%ADb/p",
"base": null,
"href": "file://ab/p",
"protocol": "file:",
"username": "",
"password": "",
"host": "ab",
"hostname": "ab",
"port": "",
"pathname": "/p",
"search": "",
"hash": ""
},
{
"input": "file://loC\ud835\udc00\ud835\udc0b\ud835\udc07\ud835\udc28\ud835\udc2c\ud835\udc2d/usr/bin",
"base": null,
"href": "file:///usr/bin",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/usr/bin",
"search": "",
"hash": ""
},
{
"input": "file://\u00ad/p",
"base": null,
"failure": true
},
{
"input": "file://%C2%AD/p",
"base": null,
"failure": true
},
{
"input": "file://xn--/p",
"base": null,
"href": "file://xn--/p",
"protocol": "file:",
"username": "",
"password": "",
"host": "xn--",
"hostname": "xn--",
"port": "",
"pathname": "/p",
"search": "",
"hash": ""
},
{
"input": "#link",
"base": "https://example.org/##link",
"href": "https://example.org/#link",
"protocol": "https:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/",
"search": "",
"hash": "#link"
},
{
"input": "non-special:cannot-be-a-base-url-\u0000\u0001\u001f\u001e~\u007f\u0080",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:cannot-be-a-base-url-%00%01%1F%1E~%7F%C2%80",
"origin": "null",
"password": "",
"pathname": "cannot-be-a-base-url-%00%01%1F%1E~%7F%C2%80",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "non-special:cannot-be-a-base-url-!\"$%&'()*+,-.;<=>@[\\]^_`{|}~@/",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:cannot-be-a-base-url-!\"$%&'()*+,-.;<=>@[\\]^_`{|}~@/",
"origin": "null",
"password": "",
"pathname": "cannot-be-a-base-url-!\"$%&'()*+,-.;<=>@[\\]^_`{|}~@/",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "https://www.example.com/path{\u007fpath.html?query'\u007f=query#fragment<\u007ffragment",
"base": null,
"hash": "#fragment%3C%7Ffragment",
"host": "www.example.com",
"hostname": "www.example.com",
"href": "https://www.example.com/path%7B%7Fpath.html?query%27%7F=query#fragment%3C%7Ffragment",
"origin": "https://www.example.com",
"password": "",
"pathname": "/path%7B%7Fpath.html",
"port": "",
"protocol": "https:",
"search": "?query%27%7F=query",
"username": ""
},
{
"input": "https://user:pass[\u007f@foo/bar",
"base": "http://example.org",
"hash": "",
"host": "foo",
"hostname": "foo",
"href": "https://user:pass%5B%7F@foo/bar",
"origin": "https://foo",
"password": "pass%5B%7F",
"pathname": "/bar",
"port": "",
"protocol": "https:",
"search": "",
"username": "user"
},
{
"input": "foo:// !\"$%&'()*+,-.;<=>@[\\]^_`{|}~@host/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://%20!%22$%&'()*+,-.%3B%3C%3D%3E%40%5B%5C%5D%5E_%60%7B%7C%7D~@host/",
"origin": "null",
"password": "",
"pathname": "/",
"port": "",
"protocol": "foo:",
"search": "",
"username": "%20!%22$%&'()*+,-.%3B%3C%3D%3E%40%5B%5C%5D%5E_%60%7B%7C%7D~"
},
{
"input": "wss:// !\"$%&'()*+,-.;<=>@[]^_`{|}~@host/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "wss://%20!%22$%&'()*+,-.%3B%3C%3D%3E%40%5B%5D%5E_%60%7B%7C%7D~@host/",
"origin": "wss://host",
"password": "",
"pathname": "/",
"port": "",
"protocol": "wss:",
"search": "",
"username": "%20!%22$%&'()*+,-.%3B%3C%3D%3E%40%5B%5D%5E_%60%7B%7C%7D~"
},
{
"input": "foo://joe: !\"$%&'()*+,-.:;<=>@[\\]^_`{|}~@host/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://joe:%20!%22$%&'()*+,-.%3A%3B%3C%3D%3E%40%5B%5C%5D%5E_%60%7B%7C%7D~@host/",
"origin": "null",
"password": "%20!%22$%&'()*+,-.%3A%3B%3C%3D%3E%40%5B%5C%5D%5E_%60%7B%7C%7D~",
"pathname": "/",
"port": "",
"protocol": "foo:",
"search": "",
"username": "joe"
},
{
"input": "wss://joe: !\"$%&'()*+,-.:;<=>@[]^_`{|}~@host/",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "wss://joe:%20!%22$%&'()*+,-.%3A%3B%3C%3D%3E%40%5B%5D%5E_%60%7B%7C%7D~@host/",
"origin": "wss://host",
"password": "%20!%22$%&'()*+,-.%3A%3B%3C%3D%3E%40%5B%5D%5E_%60%7B%7C%7D~",
"pathname": "/",
"port": "",
"protocol": "wss:",
"search": "",
"username": "joe"
},
{
"input": "foo://!\"$%&'()*+,-.;=_`{}~/",
"base": null,
"hash": "",
"host": "!\"$%&'()*+,-.;=_`{}~",
"hostname": "!\"$%&'()*+,-.;=_`{}~",
"href": "foo://!\"$%&'()*+,-.;=_`{}~/",
"origin": "null",
"password": "",
"pathname": "/",
"port": "",
"protocol": "foo:",
"search": "",
"username": ""
},
{
"input": "wss://!\"$&'()*+,-.;=_`{}~/",
"base": null,
"hash": "",
"host": "!\"$&'()*+,-.;=_`{}~",
"hostname": "!\"$&'()*+,-.;=_`{}~",
"href": "wss://!\"$&'()*+,-.;=_`{}~/",
"origin": "wss://!\"$&'()*+,-.;=_`{}~",
"password": "",
"pathname": "/",
"port": "",
"protocol": "wss:",
"search": "",
"username": ""
},
{
"input": "foo://host/ !\"$%&'()*+,-./:;<=>@[\\]^_`{|}~",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://host/%20!%22$%&'()*+,-./:;%3C=%3E@[\\]%5E_%60%7B|%7D~",
"origin": "null",
"password": "",
"pathname": "/%20!%22$%&'()*+,-./:;%3C=%3E@[\\]%5E_%60%7B|%7D~",
"port": "",
"protocol": "foo:",
"search": "",
"username": ""
},
{
"input": "wss://host/ !\"$%&'()*+,-./:;<=>@[\\]^_`{|}~",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "wss://host/%20!%22$%&'()*+,-./:;%3C=%3E@[/]%5E_%60%7B|%7D~",
"origin": "wss://host",
"password": "",
"pathname": "/%20!%22$%&'()*+,-./:;%3C=%3E@[/]%5E_%60%7B|%7D~",
"port": "",
"protocol": "wss:",
"search": "",
"username": ""
},
{
"input": "foo://host/dir/? !\"$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "foo://host/dir/?%20!%22$%&'()*+,-./:;%3C=%3E?@[\\]^_`{|}~",
"origin": "null",
"password": "",
"pathname": "/dir/",
"port": "",
"protocol": "foo:",
"search": "?%20!%22$%&'()*+,-./:;%3C=%3E?@[\\]^_`{|}~",
"username": ""
},
{
"input": "wss://host/dir/? !\"$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
"base": null,
"hash": "",
"host": "host",
"hostname": "host",
"href": "wss://host/dir/?%20!%22$%&%27()*+,-./:;%3C=%3E?@[\\]^_`{|}~",
"origin": "wss://host",
"password": "",
"pathname": "/dir/",
"port": "",
"protocol": "wss:",
"search": "?%20!%22$%&%27()*+,-./:;%3C=%3E?@[\\]^_`{|}~",
"username": ""
},
{
"input": "foo://host/dir/# !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
"base": null,
"hash": "#%20!%22#$%&'()*+,-./:;%3C=%3E?@[\\]^_%60{|}~",
"host": "host",
"hostname": "host",
"href": "foo://host/dir/#%20!%22#$%&'()*+,-./:;%3C=%3E?@[\\]^_%60{|}~",
"origin": "null",
"password": "",
"pathname": "/dir/",
"port": "",
"protocol": "foo:",
"search": "",
"username": ""
},
{
"input": "wss://host/dir/# !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
"base": null,
"hash": "#%20!%22#$%&'()*+,-./:;%3C=%3E?@[\\]^_%60{|}~",
"host": "host",
"hostname": "host",
"href": "wss://host/dir/#%20!%22#$%&'()*+,-./:;%3C=%3E?@[\\]^_%60{|}~",
"origin": "wss://host",
"password": "",
"pathname": "/dir/",
"port": "",
"protocol": "wss:",
"search": "",
"username": ""
},
{
"input": "abc:rootless",
"base": "abc://host/path",
"hash": "",
"host": "",
"hostname": "",
"href": "abc:rootless",
"password": "",
"pathname": "rootless",
"port": "",
"protocol": "abc:",
"search": "",
"username": ""
},
{
"input": "abc:rootless",
"base": "abc:/path",
"hash": "",
"host": "",
"hostname": "",
"href": "abc:rootless",
"password": "",
"pathname": "rootless",
"port": "",
"protocol": "abc:",
"search": "",
"username": ""
},
{
"input": "abc:rootless",
"base": "abc:path",
"hash": "",
"host": "",
"hostname": "",
"href": "abc:rootless",
"password": "",
"pathname": "rootless",
"port": "",
"protocol": "abc:",
"search": "",
"username": ""
},
{
"input": "abc:/rooted",
"base": "abc://host/path",
"hash": "",
"host": "",
"hostname": "",
"href": "abc:/rooted",
"password": "",
"pathname": "/rooted",
"port": "",
"protocol": "abc:",
"search": "",
"username": ""
},
{
"input": "#",
"base": null,
"failure": true,
"relativeTo": "any-base"
},
{
"input": "?",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "http://1.2.3.4.5",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://1.2.3.4.5.",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://0..0x300/",
"base": null,
"failure": true
},
{
"input": "http://0..0x300./",
"base": null,
"failure": true
},
{
"input": "http://256.256.256.256.256",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://256.256.256.256.256.",
"base": "http://other.com/",
"failure": true
},
{
"input": "http://1.2.3.08",
"base": null,
"failure": true
},
{
"input": "http://1.2.3.08.",
"base": null,
"failure": true
},
{
"input": "http://1.2.3.09",
"base": null,
"failure": true
},
{
"input": "http://09.2.3.4",
"base": null,
"failure": true
},
{
"input": "http://09.2.3.4.",
"base": null,
"failure": true
},
{
"input": "http://01.2.3.4.5",
"base": null,
"failure": true
},
{
"input": "http://01.2.3.4.5.",
"base": null,
"failure": true
},
{
"input": "http://0x100.2.3.4",
"base": null,
"failure": true
},
{
"input": "http://0x100.2.3.4.",
"base": null,
"failure": true
},
{
"input": "http://0x1.2.3.4.5",
"base": null,
"failure": true
},
{
"input": "http://0x1.2.3.4.5.",
"base": null,
"failure": true
},
{
"input": "http://foo.1.2.3.4",
"base": null,
"failure": true
},
{
"input": "http://foo.1.2.3.4.",
"base": null,
"failure": true
},
{
"input": "http://foo.2.3.4",
"base": null,
"failure": true
},
{
"input": "http://foo.2.3.4.",
"base": null,
"failure": true
},
{
"input": "http://foo.09",
"base": null,
"failure": true
},
{
"input": "http://foo.09.",
"base": null,
"failure": true
},
{
"input": "http://foo.0x4",
"base": null,
"failure": true
},
{
"input": "http://foo.0x4.",
"base": null,
"failure": true
},
{
"input": "http://foo.09..",
"base": null,
"hash": "",
"host": "foo.09..",
"hostname": "foo.09..",
"href": "http://foo.09../",
"password": "",
"pathname": "/",
"port": "",
"protocol": "http:",
"search": "",
"username": ""
},
{
"input": "http://0999999999999999999/",
"base": null,
"failure": true
},
{
"input": "http://foo.0x",
"base": null,
"failure": true
},
{
"input": "http://foo.0XFfFfFfFfFfFfFfFfFfAcE123",
"base": null,
"failure": true
},
{
"input": "http://\ud83d\udca9.123/",
"base": null,
"failure": true
},
{
"input": "https://\u0000y",
"base": null,
"failure": true
},
{
"input": "https://x/\u0000y",
"base": null,
"hash": "",
"host": "x",
"hostname": "x",
"href": "https://x/%00y",
"password": "",
"pathname": "/%00y",
"port": "",
"protocol": "https:",
"search": "",
"username": ""
},
{
"input": "https://x/?\u0000y",
"base": null,
"hash": "",
"host": "x",
"hostname": "x",
"href": "https://x/?%00y",
"password": "",
"pathname": "/",
"port": "",
"protocol": "https:",
"search": "?%00y",
"username": ""
},
{
"input": "https://x/?#\u0000y",
"base": null,
"hash": "#%00y",
"host": "x",
"hostname": "x",
"href": "https://x/?#%00y",
"password": "",
"pathname": "/",
"port": "",
"protocol": "https:",
"search": "",
"username": ""
},
{
"input": "https://\uffffy",
"base": null,
"failure": true
},
{
"input": "https://x/\uffffy",
"base": null,
"hash": "",
"host": "x",
"hostname": "x",
"href": "https://x/%EF%BF%BFy",
"password": "",
"pathname": "/%EF%BF%BFy",
"port": "",
"protocol": "https:",
"search": "",
"username": ""
},
{
"input": "https://x/?\uffffy",
"base": null,
"hash": "",
"host": "x",
"hostname": "x",
"href": "https://x/?%EF%BF%BFy",
"password": "",
"pathname": "/",
"port": "",
"protocol": "https:",
"search": "?%EF%BF%BFy",
"username": ""
},
{
"input": "https://x/?#\uffffy",
"base": null,
"hash": "#%EF%BF%BFy",
"host": "x",
"hostname": "x",
"href": "https://x/?#%EF%BF%BFy",
"password": "",
"pathname": "/",
"port": "",
"protocol": "https:",
"search": "",
"username": ""
},
{
"input": "non-special:\u0000y",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:%00y",
"password": "",
"pathname": "%00y",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "non-special:x/\u0000y",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:x/%00y",
"password": "",
"pathname": "x/%00y",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "non-special:x/?\u0000y",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:x/?%00y",
"password": "",
"pathname": "x/",
"port": "",
"protocol": "non-special:",
"search": "?%00y",
"username": ""
},
{
"input": "non-special:x/?#\u0000y",
"base": null,
"hash": "#%00y",
"host": "",
"hostname": "",
"href": "non-special:x/?#%00y",
"password": "",
"pathname": "x/",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "non-special:\uffffy",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:%EF%BF%BFy",
"password": "",
"pathname": "%EF%BF%BFy",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "non-special:x/\uffffy",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:x/%EF%BF%BFy",
"password": "",
"pathname": "x/%EF%BF%BFy",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "non-special:x/?\uffffy",
"base": null,
"hash": "",
"host": "",
"hostname": "",
"href": "non-special:x/?%EF%BF%BFy",
"password": "",
"pathname": "x/",
"port": "",
"protocol": "non-special:",
"search": "?%EF%BF%BFy",
"username": ""
},
{
"input": "non-special:x/?#\uffffy",
"base": null,
"hash": "#%EF%BF%BFy",
"host": "",
"hostname": "",
"href": "non-special:x/?#%EF%BF%BFy",
"password": "",
"pathname": "x/",
"port": "",
"protocol": "non-special:",
"search": "",
"username": ""
},
{
"input": "",
"base": null,
"failure": true,
"relativeTo": "non-opaque-path-base"
},
{
"input": "https://example.com/\"quoted\"",
"base": null,
"hash": "",
"host": "example.com",
"hostname": "example.com",
"href": "https://example.com/%22quoted%22",
"origin": "https://example.com",
"password": "",
"pathname": "/%22quoted%22",
"port": "",
"protocol": "https:",
"search": "",
"username": ""
},
{
"input": "https://a%C2%ADb/",
"base": null,
"hash": "",
"host": "ab",
"hostname": "ab",
"href": "https://ab/",
"origin": "https://ab",
"password": "",
"pathname": "/",
"port": "",
"protocol": "https:",
"search": "",
"username": ""
},
{
"comment": "Empty host after domain to ASCII",
"input": "https://\u00ad/",
"base": null,
"failure": true
},
{
"input": "https://%C2%AD/",
"base": null,
"failure": true
},
{
"input": "https://xn--/",
"base": null,
"href": "https://xn--/",
"origin": "https://xn--",
"protocol": "https:",
"username": "",
"password": "",
"host": "xn--",
"hostname": "xn--",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "data://example.com:8080/pathname?search#hash",
"base": null,
"href": "data://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "data:///test",
"base": null,
"href": "data:///test",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "data://test/a/../b",
"base": null,
"href": "data://test/b",
"origin": "null",
"protocol": "data:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "data://:443",
"base": null,
"failure": true
},
{
"input": "data://test:test",
"base": null,
"failure": true
},
{
"input": "data://[:1]",
"base": null,
"failure": true
},
{
"input": "javascript://example.com:8080/pathname?search#hash",
"base": null,
"href": "javascript://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "javascript:///test",
"base": null,
"href": "javascript:///test",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "javascript://test/a/../b",
"base": null,
"href": "javascript://test/b",
"origin": "null",
"protocol": "javascript:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "javascript://:443",
"base": null,
"failure": true
},
{
"input": "javascript://test:test",
"base": null,
"failure": true
},
{
"input": "javascript://[:1]",
"base": null,
"failure": true
},
{
"input": "mailto://example.com:8080/pathname?search#hash",
"base": null,
"href": "mailto://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "mailto:///test",
"base": null,
"href": "mailto:///test",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "mailto://test/a/../b",
"base": null,
"href": "mailto://test/b",
"origin": "null",
"protocol": "mailto:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "mailto://:443",
"base": null,
"failure": true
},
{
"input": "mailto://test:test",
"base": null,
"failure": true
},
{
"input": "mailto://[:1]",
"base": null,
"failure": true
},
{
"input": "intent://example.com:8080/pathname?search#hash",
"base": null,
"href": "intent://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "intent:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "intent:///test",
"base": null,
"href": "intent:///test",
"origin": "null",
"protocol": "intent:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "intent://test/a/../b",
"base": null,
"href": "intent://test/b",
"origin": "null",
"protocol": "intent:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "intent://:443",
"base": null,
"failure": true
},
{
"input": "intent://test:test",
"base": null,
"failure": true
},
{
"input": "intent://[:1]",
"base": null,
"failure": true
},
{
"input": "urn://example.com:8080/pathname?search#hash",
"base": null,
"href": "urn://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "urn:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "urn:///test",
"base": null,
"href": "urn:///test",
"origin": "null",
"protocol": "urn:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "urn://test/a/../b",
"base": null,
"href": "urn://test/b",
"origin": "null",
"protocol": "urn:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "urn://:443",
"base": null,
"failure": true
},
{
"input": "urn://test:test",
"base": null,
"failure": true
},
{
"input": "urn://[:1]",
"base": null,
"failure": true
},
{
"input": "turn://example.com:8080/pathname?search#hash",
"base": null,
"href": "turn://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "turn:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "turn:///test",
"base": null,
"href": "turn:///test",
"origin": "null",
"protocol": "turn:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "turn://test/a/../b",
"base": null,
"href": "turn://test/b",
"origin": "null",
"protocol": "turn:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "turn://:443",
"base": null,
"failure": true
},
{
"input": "turn://test:test",
"base": null,
"failure": true
},
{
"input": "turn://[:1]",
"base": null,
"failure": true
},
{
"input": "stun://example.com:8080/pathname?search#hash",
"base": null,
"href": "stun://example.com:8080/pathname?search#hash",
"origin": "null",
"protocol": "stun:",
"username": "",
"password": "",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080",
"pathname": "/pathname",
"search": "?search",
"hash": "#hash"
},
{
"input": "stun:///test",
"base": null,
"href": "stun:///test",
"origin": "null",
"protocol": "stun:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/test",
"search": "",
"hash": ""
},
{
"input": "stun://test/a/../b",
"base": null,
"href": "stun://test/b",
"origin": "null",
"protocol": "stun:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/b",
"search": "",
"hash": ""
},
{
"input": "stun://:443",
"base": null,
"failure": true
},
{
"input": "stun://test:test",
"base": null,
"failure": true
},
{
"input": "stun://[:1]",
"base": null,
"failure": true
},
{
"input": "w://x:0",
"base": null,
"href": "w://x:0",
"origin": "null",
"protocol": "w:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "west://x:0",
"base": null,
"href": "west://x:0",
"origin": "null",
"protocol": "west:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "android://x:0/a",
"base": null,
"href": "android://x:0/a",
"origin": "null",
"protocol": "android:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "drivefs://x:0/a",
"base": null,
"href": "drivefs://x:0/a",
"origin": "null",
"protocol": "drivefs:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "chromeos-steam://x:0/a",
"base": null,
"href": "chromeos-steam://x:0/a",
"origin": "null",
"protocol": "chromeos-steam:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "steam://x:0/a",
"base": null,
"href": "steam://x:0/a",
"origin": "null",
"protocol": "steam:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "materialized-view://x:0/a",
"base": null,
"href": "materialized-view://x:0/a",
"origin": "null",
"protocol": "materialized-view:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "/a",
"search": "",
"hash": ""
},
{
"input": "android-app://x:0",
"base": null,
"href": "android-app://x:0",
"origin": "null",
"protocol": "android-app:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "chrome-distiller://x:0",
"base": null,
"href": "chrome-distiller://x:0",
"origin": "null",
"protocol": "chrome-distiller:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "chrome-extension://x:0",
"base": null,
"href": "chrome-extension://x:0",
"origin": "null",
"protocol": "chrome-extension:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "chrome-native://x:0",
"base": null,
"href": "chrome-native://x:0",
"origin": "null",
"protocol": "chrome-native:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "chrome-resource://x:0",
"base": null,
"href": "chrome-resource://x:0",
"origin": "null",
"protocol": "chrome-resource:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "chrome-search://x:0",
"base": null,
"href": "chrome-search://x:0",
"origin": "null",
"protocol": "chrome-search:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "fuchsia-dir://x:0",
"base": null,
"href": "fuchsia-dir://x:0",
"origin": "null",
"protocol": "fuchsia-dir:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "isolated-app://x:0",
"base": null,
"href": "isolated-app://x:0",
"origin": "null",
"protocol": "isolated-app:",
"username": "",
"password": "",
"host": "x:0",
"hostname": "x",
"port": "0",
"pathname": "",
"search": "",
"hash": ""
},
{
"input": "///test",
"base": "http://example.org/",
"href": "http://test/",
"protocol": "http:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "///\\//\\//test",
"base": "http://example.org/",
"href": "http://test/",
"protocol": "http:",
"username": "",
"password": "",
"host": "test",
"hostname": "test",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "///example.org/path",
"base": "http://example.org/",
"href": "http://example.org/path",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/path",
"search": "",
"hash": ""
},
{
"input": "///example.org/../path",
"base": "http://example.org/",
"href": "http://example.org/path",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/path",
"search": "",
"hash": ""
},
{
"input": "///example.org/../../",
"base": "http://example.org/",
"href": "http://example.org/",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "///example.org/../path/../../",
"base": "http://example.org/",
"href": "http://example.org/",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "///example.org/../path/../../path",
"base": "http://example.org/",
"href": "http://example.org/path",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/path",
"search": "",
"hash": ""
},
{
"input": "/\\/\\//example.org/../path",
"base": "http://example.org/",
"href": "http://example.org/path",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.org",
"hostname": "example.org",
"port": "",
"pathname": "/path",
"search": "",
"hash": ""
},
{
"input": "///abcdef/../",
"base": "file:///",
"href": "file:///",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "/\\//\\/a/../",
"base": "file:///",
"href": "file://////",
"protocol": "file:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "////",
"search": "",
"hash": ""
},
{
"input": "//a/../",
"base": "file:///",
"href": "file://a/",
"protocol": "file:",
"username": "",
"password": "",
"host": "a",
"hostname": "a",
"port": "",
"pathname": "/",
"search": "",
"hash": ""
},
{
"input": "non-special:\\\\opaque",
"base": null,
"href": "non-special:\\\\opaque",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "\\\\opaque",
"search": "",
"hash": ""
},
{
"input": "non-special:\\\\opaque/path",
"base": null,
"href": "non-special:\\\\opaque/path",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "\\\\opaque/path",
"search": "",
"hash": ""
},
{
"input": "non-special:\\\\opaque\\path",
"base": null,
"href": "non-special:\\\\opaque\\path",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "\\\\opaque\\path",
"search": "",
"hash": ""
},
{
"input": "non-special:\\/opaque",
"base": null,
"href": "non-special:\\/opaque",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "\\/opaque",
"search": "",
"hash": ""
},
{
"input": "non-special:/\\path",
"base": null,
"href": "non-special:/\\path",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "/\\path",
"search": "",
"hash": ""
},
{
"input": "non-special://host\\a",
"base": null,
"failure": true
},
{
"input": "non-special://host/a\\b",
"base": null,
"href": "non-special://host/a\\b",
"origin": "null",
"protocol": "non-special:",
"username": "",
"password": "",
"host": "host",
"hostname": "host",
"port": "",
"pathname": "/a\\b",
"search": "",
"hash": ""
},
{
"comment": "Non-special relative: \\ should not enter RelativeSlash state",
"input": "\\a",
"base": "foo://foo/a",
"href": "foo://foo/\\a",
"protocol": "foo:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/\\a",
"search": "",
"hash": ""
},
{
"comment": "Non-special relative: \\ should not enter RelativeSlash, so / is a path separator",
"input": "\\/a",
"base": "foo://foo/a",
"href": "foo://foo/\\/a",
"protocol": "foo:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/\\/a",
"search": "",
"hash": ""
},
{
"comment": "Non-special relative: \\\\ should not trigger authority parsing",
"input": "\\\\a",
"base": "foo://foo/a",
"href": "foo://foo/\\\\a",
"protocol": "foo:",
"username": "",
"password": "",
"host": "foo",
"hostname": "foo",
"port": "",
"pathname": "/\\\\a",
"search": "",
"hash": ""
},
{
"comment": "Fragment with <> on data: URI",
"input": "data:text/plain,test#<foo> <bar>",
"base": null,
"href": "data:text/plain,test#%3Cfoo%3E%20%3Cbar%3E",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "text/plain,test",
"search": "",
"hash": "#%3Cfoo%3E%20%3Cbar%3E"
},
{
"comment": "Fragment with <> on about:blank",
"input": "about:blank#<foo> <bar>",
"base": null,
"href": "about:blank#%3Cfoo%3E%20%3Cbar%3E",
"protocol": "about:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "blank",
"search": "",
"hash": "#%3Cfoo%3E%20%3Cbar%3E"
},
{
"comment": "Fragment percent-encode set on data: URI; tabs and newlines are removed",
"input": "data:text/plain,test#\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"base": null,
"href": "data:text/plain,test#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9",
"protocol": "data:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "text/plain,test",
"search": "",
"hash": "#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9"
},
{
"comment": "Fragment percent-encode set on about:blank; tabs and newlines are removed",
"input": "about:blank#\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"base": null,
"href": "about:blank#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9",
"protocol": "about:",
"username": "",
"password": "",
"host": "",
"hostname": "",
"port": "",
"pathname": "blank",
"search": "",
"hash": "#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9"
},
{
"input": "http://example.com/\ud800\ud801\udffe\udfff\ufdd0\ufdcf\ufdef\ufdf0\ufffe\uffff?\ud800\ud801\udffe\udfff\ufdd0\ufdcf\ufdef\ufdf0\ufffe\uffff",
"base": null,
"href": "http://example.com/%EF%BF%BD%F0%90%9F%BE%EF%BF%BD%EF%B7%90%EF%B7%8F%EF%B7%AF%EF%B7%B0%EF%BF%BE%EF%BF%BF?%EF%BF%BD%F0%90%9F%BE%EF%BF%BD%EF%B7%90%EF%B7%8F%EF%B7%AF%EF%B7%B0%EF%BF%BE%EF%BF%BF",
"origin": "http://example.com",
"protocol": "http:",
"username": "",
"password": "",
"host": "example.com",
"hostname": "example.com",
"port": "",
"pathname": "/%EF%BF%BD%F0%90%9F%BE%EF%BF%BD%EF%B7%90%EF%B7%8F%EF%B7%AF%EF%B7%B0%EF%BF%BE%EF%BF%BF",
"search": "?%EF%BF%BD%F0%90%9F%BE%EF%BF%BD%EF%B7%90%EF%B7%8F%EF%B7%AF%EF%B7%B0%EF%BF%BE%EF%BF%BF",
"hash": ""
}
];

export const setters = {
"protocol": [
{
"comment": "The empty string is not a valid scheme. Setter leaves the URL unchanged.",
"href": "a://example.net",
"new_value": "",
"expected": {
"href": "a://example.net",
"protocol": "a:"
}
},
{
"href": "a://example.net",
"new_value": "b",
"expected": {
"href": "b://example.net",
"protocol": "b:"
}
},
{
"href": "javascript:alert(1)",
"new_value": "defuse",
"expected": {
"href": "defuse:alert(1)",
"protocol": "defuse:"
}
},
{
"comment": "Upper-case ASCII is lower-cased",
"href": "a://example.net",
"new_value": "B",
"expected": {
"href": "b://example.net",
"protocol": "b:"
}
},
{
"comment": "Non-ASCII is rejected",
"href": "a://example.net",
"new_value": "\u00e9",
"expected": {
"href": "a://example.net",
"protocol": "a:"
}
},
{
"comment": "No leading digit",
"href": "a://example.net",
"new_value": "0b",
"expected": {
"href": "a://example.net",
"protocol": "a:"
}
},
{
"comment": "No leading punctuation",
"href": "a://example.net",
"new_value": "+b",
"expected": {
"href": "a://example.net",
"protocol": "a:"
}
},
{
"href": "a://example.net",
"new_value": "bC0+-.",
"expected": {
"href": "bc0+-.://example.net",
"protocol": "bc0+-.:"
}
},
{
"comment": "Only some punctuation is acceptable",
"href": "a://example.net",
"new_value": "b,c",
"expected": {
"href": "a://example.net",
"protocol": "a:"
}
},
{
"comment": "Non-ASCII is rejected",
"href": "a://example.net",
"new_value": "b\u00e9",
"expected": {
"href": "a://example.net",
"protocol": "a:"
}
},
{
"comment": "Can\u2019t switch from URL containing username/password/port to file",
"href": "http://test@example.net",
"new_value": "file",
"expected": {
"href": "http://test@example.net/",
"protocol": "http:"
}
},
{
"href": "https://example.net:1234",
"new_value": "file",
"expected": {
"href": "https://example.net:1234/",
"protocol": "https:"
}
},
{
"href": "wss://x:x@example.net:1234",
"new_value": "file",
"expected": {
"href": "wss://x:x@example.net:1234/",
"protocol": "wss:"
}
},
{
"comment": "Can\u2019t switch from file URL with no host",
"href": "file://localhost/",
"new_value": "http",
"expected": {
"href": "file:///",
"protocol": "file:"
}
},
{
"href": "file:///test",
"new_value": "https",
"expected": {
"href": "file:///test",
"protocol": "file:"
}
},
{
"href": "file:",
"new_value": "wss",
"expected": {
"href": "file:///",
"protocol": "file:"
}
},
{
"comment": "Can\u2019t switch from special scheme to non-special",
"href": "http://example.net",
"new_value": "b",
"expected": {
"href": "http://example.net/",
"protocol": "http:"
}
},
{
"href": "file://hi/path",
"new_value": "s",
"expected": {
"href": "file://hi/path",
"protocol": "file:"
}
},
{
"href": "https://example.net",
"new_value": "s",
"expected": {
"href": "https://example.net/",
"protocol": "https:"
}
},
{
"href": "ftp://example.net",
"new_value": "test",
"expected": {
"href": "ftp://example.net/",
"protocol": "ftp:"
}
},
{
"comment": "Cannot-be-a-base URL doesn\u2019t have a host, but URL in a special scheme must.",
"href": "mailto:me@example.net",
"new_value": "http",
"expected": {
"href": "mailto:me@example.net",
"protocol": "mailto:"
}
},
{
"comment": "Can\u2019t switch from non-special scheme to special",
"href": "ssh://me@example.net",
"new_value": "http",
"expected": {
"href": "ssh://me@example.net",
"protocol": "ssh:"
}
},
{
"href": "ssh://me@example.net",
"new_value": "https",
"expected": {
"href": "ssh://me@example.net",
"protocol": "ssh:"
}
},
{
"href": "ssh://me@example.net",
"new_value": "file",
"expected": {
"href": "ssh://me@example.net",
"protocol": "ssh:"
}
},
{
"href": "ssh://example.net",
"new_value": "file",
"expected": {
"href": "ssh://example.net",
"protocol": "ssh:"
}
},
{
"href": "nonsense:///test",
"new_value": "https",
"expected": {
"href": "nonsense:///test",
"protocol": "nonsense:"
}
},
{
"comment": "Stuff after the first ':' is ignored",
"href": "http://example.net",
"new_value": "https:foo : bar",
"expected": {
"href": "https://example.net/",
"protocol": "https:"
}
},
{
"comment": "Stuff after the first ':' is ignored",
"href": "data:text/html,<p>Test",
"new_value": "view-source+data:foo : bar",
"expected": {
"href": "view-source+data:text/html,<p>Test",
"protocol": "view-source+data:"
}
},
{
"comment": "Port is set to null if it is the default for new scheme.",
"href": "http://foo.com:443/",
"new_value": "https",
"expected": {
"href": "https://foo.com/",
"protocol": "https:",
"port": ""
}
},
{
"comment": "Tab and newline are stripped",
"href": "http://test/",
"new_value": "h\r\ntt\tps",
"expected": {
"href": "https://test/",
"protocol": "https:",
"port": ""
}
},
{
"href": "http://test/",
"new_value": "https\r",
"expected": {
"href": "https://test/",
"protocol": "https:"
}
},
{
"comment": "Non-tab/newline C0 controls result in no-op",
"href": "http://test/",
"new_value": "https\u0000",
"expected": {
"href": "http://test/",
"protocol": "http:"
}
},
{
"href": "http://test/",
"new_value": "https\f",
"expected": {
"href": "http://test/",
"protocol": "http:"
}
},
{
"href": "http://test/",
"new_value": "https\u000e",
"expected": {
"href": "http://test/",
"protocol": "http:"
}
},
{
"href": "http://test/",
"new_value": "https ",
"expected": {
"href": "http://test/",
"protocol": "http:"
}
}
],
"username": [
{
"comment": "No host means no username",
"href": "file:///home/you/index.html",
"new_value": "me",
"expected": {
"href": "file:///home/you/index.html",
"username": ""
}
},
{
"comment": "No host means no username",
"href": "unix:/run/foo.socket",
"new_value": "me",
"expected": {
"href": "unix:/run/foo.socket",
"username": ""
}
},
{
"comment": "Cannot-be-a-base means no username",
"href": "mailto:you@example.net",
"new_value": "me",
"expected": {
"href": "mailto:you@example.net",
"username": ""
}
},
{
"href": "javascript:alert(1)",
"new_value": "wario",
"expected": {
"href": "javascript:alert(1)",
"username": ""
}
},
{
"href": "http://example.net",
"new_value": "me",
"expected": {
"href": "http://me@example.net/",
"username": "me"
}
},
{
"href": "http://:secret@example.net",
"new_value": "me",
"expected": {
"href": "http://me:secret@example.net/",
"username": "me"
}
},
{
"href": "http://me@example.net",
"new_value": "",
"expected": {
"href": "http://example.net/",
"username": ""
}
},
{
"href": "http://me:secret@example.net",
"new_value": "",
"expected": {
"href": "http://:secret@example.net/",
"username": ""
}
},
{
"comment": "UTF-8 percent encoding with the userinfo encode set.",
"href": "http://example.net",
"new_value": "\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "http://%00%01%09%0A%0D%1F%20!%22%23$%&'()*+,-.%2F09%3A%3B%3C%3D%3E%3F%40AZ%5B%5C%5D%5E_%60az%7B%7C%7D~%7F%C2%80%C2%81%C3%89%C3%A9@example.net/",
"username": "%00%01%09%0A%0D%1F%20!%22%23$%&'()*+,-.%2F09%3A%3B%3C%3D%3E%3F%40AZ%5B%5C%5D%5E_%60az%7B%7C%7D~%7F%C2%80%C2%81%C3%89%C3%A9"
}
},
{
"comment": "Bytes already percent-encoded are left as-is.",
"href": "http://example.net",
"new_value": "%c3%89t\u00e9",
"expected": {
"href": "http://%c3%89t%C3%A9@example.net/",
"username": "%c3%89t%C3%A9"
}
},
{
"href": "sc:///",
"new_value": "x",
"expected": {
"href": "sc:///",
"username": ""
}
},
{
"href": "javascript://x/",
"new_value": "wario",
"expected": {
"href": "javascript://wario@x/",
"username": "wario"
}
},
{
"href": "file://test/",
"new_value": "test",
"expected": {
"href": "file://test/",
"username": ""
}
}
],
"password": [
{
"comment": "No host means no password",
"href": "file:///home/me/index.html",
"new_value": "secret",
"expected": {
"href": "file:///home/me/index.html",
"password": ""
}
},
{
"comment": "No host means no password",
"href": "unix:/run/foo.socket",
"new_value": "secret",
"expected": {
"href": "unix:/run/foo.socket",
"password": ""
}
},
{
"comment": "Cannot-be-a-base means no password",
"href": "mailto:me@example.net",
"new_value": "secret",
"expected": {
"href": "mailto:me@example.net",
"password": ""
}
},
{
"href": "http://example.net",
"new_value": "secret",
"expected": {
"href": "http://:secret@example.net/",
"password": "secret"
}
},
{
"href": "http://me@example.net",
"new_value": "secret",
"expected": {
"href": "http://me:secret@example.net/",
"password": "secret"
}
},
{
"href": "http://:secret@example.net",
"new_value": "",
"expected": {
"href": "http://example.net/",
"password": ""
}
},
{
"href": "http://me:secret@example.net",
"new_value": "",
"expected": {
"href": "http://me@example.net/",
"password": ""
}
},
{
"comment": "UTF-8 percent encoding with the userinfo encode set.",
"href": "http://example.net",
"new_value": "\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "http://:%00%01%09%0A%0D%1F%20!%22%23$%&'()*+,-.%2F09%3A%3B%3C%3D%3E%3F%40AZ%5B%5C%5D%5E_%60az%7B%7C%7D~%7F%C2%80%C2%81%C3%89%C3%A9@example.net/",
"password": "%00%01%09%0A%0D%1F%20!%22%23$%&'()*+,-.%2F09%3A%3B%3C%3D%3E%3F%40AZ%5B%5C%5D%5E_%60az%7B%7C%7D~%7F%C2%80%C2%81%C3%89%C3%A9"
}
},
{
"comment": "Bytes already percent-encoded are left as-is.",
"href": "http://example.net",
"new_value": "%c3%89t\u00e9",
"expected": {
"href": "http://:%c3%89t%C3%A9@example.net/",
"password": "%c3%89t%C3%A9"
}
},
{
"href": "sc:///",
"new_value": "x",
"expected": {
"href": "sc:///",
"password": ""
}
},
{
"href": "javascript://x/",
"new_value": "bowser",
"expected": {
"href": "javascript://:bowser@x/",
"password": "bowser"
}
},
{
"href": "file://test/",
"new_value": "test",
"expected": {
"href": "file://test/",
"password": ""
}
}
],
"host": [
{
"comment": "Non-special scheme",
"href": "sc://x/",
"new_value": "\u0000",
"expected": {
"href": "sc://x/",
"host": "x",
"hostname": "x"
}
},
{
"href": "sc://x/",
"new_value": "\t",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "\n",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "\r",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": " ",
"expected": {
"href": "sc://x/",
"host": "x",
"hostname": "x"
}
},
{
"href": "sc://x/",
"new_value": "#",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "/",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "?",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "@",
"expected": {
"href": "sc://x/",
"host": "x",
"hostname": "x"
}
},
{
"href": "sc://x/",
"new_value": "\u00df",
"expected": {
"href": "sc://%C3%9F/",
"host": "%C3%9F",
"hostname": "%C3%9F"
}
},
{
"comment": "IDNA Nontransitional_Processing",
"href": "https://x/",
"new_value": "\u00df",
"expected": {
"href": "https://xn--zca/",
"host": "xn--zca",
"hostname": "xn--zca"
}
},
{
"comment": "Cannot-be-a-base means no host",
"href": "mailto:me@example.net",
"new_value": "example.com",
"expected": {
"href": "mailto:me@example.net",
"host": ""
}
},
{
"comment": "Cannot-be-a-base means no host",
"href": "data:text/plain,Stuff",
"new_value": "example.net",
"expected": {
"href": "data:text/plain,Stuff",
"host": ""
}
},
{
"href": "http://example.net",
"new_value": "example.com:8080",
"expected": {
"href": "http://example.com:8080/",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Port number is unchanged if not specified in the new value",
"href": "http://example.net:8080",
"new_value": "example.com",
"expected": {
"href": "http://example.com:8080/",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Port number is unchanged if not specified",
"href": "http://example.net:8080",
"new_value": "example.com:",
"expected": {
"href": "http://example.com:8080/",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "The empty host is not valid for special schemes",
"href": "http://example.net",
"new_value": "",
"expected": {
"href": "http://example.net/",
"host": "example.net"
}
},
{
"comment": "The empty host is OK for non-special schemes",
"href": "view-source+http://example.net/foo",
"new_value": "",
"expected": {
"href": "view-source+http:///foo",
"host": ""
}
},
{
"comment": "Path-only URLs can gain a host",
"href": "a:/foo",
"new_value": "example.net",
"expected": {
"href": "a://example.net/foo",
"host": "example.net"
}
},
{
"comment": "IPv4 address syntax is normalized",
"href": "http://example.net",
"new_value": "0x7F000001:8080",
"expected": {
"href": "http://127.0.0.1:8080/",
"host": "127.0.0.1:8080",
"hostname": "127.0.0.1",
"port": "8080"
}
},
{
"comment": "IPv6 address syntax is normalized",
"href": "http://example.net",
"new_value": "[::0:01]:2",
"expected": {
"href": "http://[::1]:2/",
"host": "[::1]:2",
"hostname": "[::1]",
"port": "2"
}
},
{
"comment": "IPv6 literal address with port, crbug.com/1012416",
"href": "http://example.net",
"new_value": "[2001:db8::2]:4002",
"expected": {
"href": "http://[2001:db8::2]:4002/",
"host": "[2001:db8::2]:4002",
"hostname": "[2001:db8::2]",
"port": "4002"
}
},
{
"comment": "Default port number is removed",
"href": "http://example.net",
"new_value": "example.com:80",
"expected": {
"href": "http://example.com/",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Default port number is removed",
"href": "https://example.net",
"new_value": "example.com:443",
"expected": {
"href": "https://example.com/",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Default port number is only removed for the relevant scheme",
"href": "https://example.net",
"new_value": "example.com:80",
"expected": {
"href": "https://example.com:80/",
"host": "example.com:80",
"hostname": "example.com",
"port": "80"
}
},
{
"comment": "Port number is removed if new port is scheme default and existing URL has a non-default port",
"href": "http://example.net:8080",
"new_value": "example.com:80",
"expected": {
"href": "http://example.com/",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a / delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com/stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a / delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com:8080/stuff",
"expected": {
"href": "http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Stuff after a ? delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com?stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a ? delimiter is ignored, trailing 'port'",
"href": "http://example.net/path",
"new_value": "example.com?stuff:8080",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a ? delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com:8080?stuff",
"expected": {
"href": "http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Stuff after a # delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com#stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a # delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com:8080#stuff",
"expected": {
"href": "http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Stuff after a \\ delimiter is ignored for special schemes",
"href": "http://example.net/path",
"new_value": "example.com\\stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a \\ delimiter is ignored for special schemes",
"href": "http://example.net/path",
"new_value": "example.com:8080\\stuff",
"expected": {
"href": "http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "\\ is not a delimiter for non-special schemes, but still forbidden in hosts",
"href": "view-source+http://example.net/path",
"new_value": "example.com\\stuff",
"expected": {
"href": "view-source+http://example.net/path",
"host": "example.net",
"hostname": "example.net",
"port": ""
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "view-source+http://example.net/path",
"new_value": "example.com:8080stuff2",
"expected": {
"href": "view-source+http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "http://example.net/path",
"new_value": "example.com:8080stuff2",
"expected": {
"href": "http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "http://example.net/path",
"new_value": "example.com:8080+2",
"expected": {
"href": "http://example.com:8080/path",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "http://example.net:8080",
"new_value": "example.com:invalid",
"expected": {
"href": "http://example.com:8080/",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "http://example.net:8080/test",
"new_value": "[::1]:invalid",
"expected": {
"href": "http://[::1]:8080/test",
"host": "[::1]:8080",
"hostname": "[::1]",
"port": "8080"
}
},
{
"comment": "IPv6 without port",
"href": "http://example.net:8080/test",
"new_value": "[::1]",
"expected": {
"href": "http://[::1]:8080/test",
"host": "[::1]:8080",
"hostname": "[::1]",
"port": "8080"
}
},
{
"comment": "Port numbers are 16 bit integers",
"href": "http://example.net/path",
"new_value": "example.com:65535",
"expected": {
"href": "http://example.com:65535/path",
"host": "example.com:65535",
"hostname": "example.com",
"port": "65535"
}
},
{
"comment": "Port numbers are 16 bit integers, overflowing is an error. Hostname is still set, though.",
"href": "http://example.net/path",
"new_value": "example.com:65536",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Broken IPv6",
"href": "http://example.net/",
"new_value": "[google.com]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.2.3.4x]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.2.3.]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.2.]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "file://y/",
"new_value": "x:123",
"expected": {
"href": "file://y/",
"host": "y",
"hostname": "y",
"port": ""
}
},
{
"href": "file://y/",
"new_value": "loc%41lhost",
"expected": {
"href": "file:///",
"host": "",
"hostname": "",
"port": ""
}
},
{
"href": "file://hi/x",
"new_value": "",
"expected": {
"href": "file:///x",
"host": "",
"hostname": "",
"port": ""
}
},
{
"href": "sc://test@test/",
"new_value": "",
"expected": {
"href": "sc://test@test/",
"host": "test",
"hostname": "test",
"username": "test"
}
},
{
"href": "sc://test:12/",
"new_value": "",
"expected": {
"href": "sc://test:12/",
"host": "test:12",
"hostname": "test",
"port": "12"
}
},
{
"comment": "Leading / is not stripped",
"href": "http://example.com/",
"new_value": "///bad.com",
"expected": {
"href": "http://example.com/",
"host": "example.com",
"hostname": "example.com"
}
},
{
"comment": "Leading / is not stripped",
"href": "sc://example.com/",
"new_value": "///bad.com",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "https://example.com/",
"new_value": "a%C2%ADb",
"expected": {
"href": "https://ab/",
"host": "ab",
"hostname": "ab"
}
},
{
"href": "https://example.com/",
"new_value": "\u00ad",
"expected": {
"href": "https://example.com/",
"host": "example.com",
"hostname": "example.com"
}
},
{
"href": "https://example.com/",
"new_value": "%C2%AD",
"expected": {
"href": "https://example.com/",
"host": "example.com",
"hostname": "example.com"
}
},
{
"href": "https://example.com/",
"new_value": "xn--",
"expected": {
"href": "https://xn--/",
"host": "xn--",
"hostname": "xn--"
}
},
{
"href": "https://test.invalid/",
"new_value": "*",
"expected": {
"href": "https://*/",
"host": "*",
"hostname": "*"
}
},
{
"href": "https://test.invalid/",
"new_value": "x@x",
"expected": {
"href": "https://test.invalid/",
"host": "test.invalid",
"hostname": "test.invalid"
}
},
{
"href": "https://test.invalid/",
"new_value": "foo\t\r\nbar",
"expected": {
"href": "https://foobar/",
"host": "foobar",
"hostname": "foobar"
}
},
{
"href": "https://test.invalid/",
"new_value": "><",
"expected": {
"href": "https://test.invalid/",
"host": "test.invalid",
"hostname": "test.invalid"
}
},
{
"href": "https://test.invalid/",
"new_value": "test/@aaa",
"expected": {
"href": "https://test/",
"host": "test",
"hostname": "test"
}
},
{
"href": "https://test.invalid/",
"new_value": "test/:aaa",
"expected": {
"href": "https://test/",
"host": "test",
"hostname": "test"
}
},
{
"href": "foo://path/to",
"new_value": ":80",
"expected": {
"href": "foo://path/to",
"host": "path",
"port": ""
}
}
],
"hostname": [
{
"comment": "Non-special scheme",
"href": "sc://x/",
"new_value": "\u0000",
"expected": {
"href": "sc://x/",
"host": "x",
"hostname": "x"
}
},
{
"href": "sc://x/",
"new_value": "\t",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "\n",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "\r",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": " ",
"expected": {
"href": "sc://x/",
"host": "x",
"hostname": "x"
}
},
{
"href": "sc://x/",
"new_value": "#",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "/",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "?",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "sc://x/",
"new_value": "@",
"expected": {
"href": "sc://x/",
"host": "x",
"hostname": "x"
}
},
{
"comment": "Cannot-be-a-base means no host",
"href": "mailto:me@example.net",
"new_value": "example.com",
"expected": {
"href": "mailto:me@example.net",
"host": ""
}
},
{
"comment": "Cannot-be-a-base means no host",
"href": "data:text/plain,Stuff",
"new_value": "example.net",
"expected": {
"href": "data:text/plain,Stuff",
"host": ""
}
},
{
"href": "http://example.net:8080",
"new_value": "example.com",
"expected": {
"href": "http://example.com:8080/",
"host": "example.com:8080",
"hostname": "example.com",
"port": "8080"
}
},
{
"comment": "The empty host is not valid for special schemes",
"href": "http://example.net",
"new_value": "",
"expected": {
"href": "http://example.net/",
"host": "example.net"
}
},
{
"comment": "The empty host is OK for non-special schemes",
"href": "view-source+http://example.net/foo",
"new_value": "",
"expected": {
"href": "view-source+http:///foo",
"host": ""
}
},
{
"comment": "Path-only URLs can gain a host",
"href": "a:/foo",
"new_value": "example.net",
"expected": {
"href": "a://example.net/foo",
"host": "example.net"
}
},
{
"comment": "IPv4 address syntax is normalized",
"href": "http://example.net:8080",
"new_value": "0x7F000001",
"expected": {
"href": "http://127.0.0.1:8080/",
"host": "127.0.0.1:8080",
"hostname": "127.0.0.1",
"port": "8080"
}
},
{
"comment": "IPv6 address syntax is normalized",
"href": "http://example.net",
"new_value": "[::0:01]",
"expected": {
"href": "http://[::1]/",
"host": "[::1]",
"hostname": "[::1]",
"port": ""
}
},
{
"comment": ": delimiter invalidates entire value",
"href": "http://example.net/path",
"new_value": "example.com:8080",
"expected": {
"href": "http://example.net/path",
"host": "example.net",
"hostname": "example.net",
"port": ""
}
},
{
"comment": ": delimiter invalidates entire value",
"href": "http://example.net:8080/path",
"new_value": "example.com:",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Stuff after a / delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com/stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a ? delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com?stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a # delimiter is ignored",
"href": "http://example.net/path",
"new_value": "example.com#stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "Stuff after a \\ delimiter is ignored for special schemes",
"href": "http://example.net/path",
"new_value": "example.com\\stuff",
"expected": {
"href": "http://example.com/path",
"host": "example.com",
"hostname": "example.com",
"port": ""
}
},
{
"comment": "\\ is not a delimiter for non-special schemes, but still forbidden in hosts",
"href": "view-source+http://example.net/path",
"new_value": "example.com\\stuff",
"expected": {
"href": "view-source+http://example.net/path",
"host": "example.net",
"hostname": "example.net",
"port": ""
}
},
{
"comment": "Broken IPv6",
"href": "http://example.net/",
"new_value": "[google.com]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.2.3.4x]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.2.3.]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.2.]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "http://example.net/",
"new_value": "[::1.]",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net"
}
},
{
"href": "file://y/",
"new_value": "x:123",
"expected": {
"href": "file://y/",
"host": "y",
"hostname": "y",
"port": ""
}
},
{
"href": "file://y/",
"new_value": "loc%41lhost",
"expected": {
"href": "file:///",
"host": "",
"hostname": "",
"port": ""
}
},
{
"href": "file://hi/x",
"new_value": "",
"expected": {
"href": "file:///x",
"host": "",
"hostname": "",
"port": ""
}
},
{
"href": "sc://test@test/",
"new_value": "",
"expected": {
"href": "sc://test@test/",
"host": "test",
"hostname": "test",
"username": "test"
}
},
{
"href": "sc://test:12/",
"new_value": "",
"expected": {
"href": "sc://test:12/",
"host": "test:12",
"hostname": "test",
"port": "12"
}
},
{
"comment": "Drop /. from path",
"href": "non-spec:/.//p",
"new_value": "h",
"expected": {
"href": "non-spec://h//p",
"host": "h",
"hostname": "h",
"pathname": "//p"
}
},
{
"href": "non-spec:/.//p",
"new_value": "",
"expected": {
"href": "non-spec:////p",
"host": "",
"hostname": "",
"pathname": "//p"
}
},
{
"comment": "Leading / is not stripped",
"href": "http://example.com/",
"new_value": "///bad.com",
"expected": {
"href": "http://example.com/",
"host": "example.com",
"hostname": "example.com"
}
},
{
"comment": "Leading / is not stripped",
"href": "sc://example.com/",
"new_value": "///bad.com",
"expected": {
"href": "sc:///",
"host": "",
"hostname": ""
}
},
{
"href": "https://example.com/",
"new_value": "a%C2%ADb",
"expected": {
"href": "https://ab/",
"host": "ab",
"hostname": "ab"
}
},
{
"href": "https://example.com/",
"new_value": "\u00ad",
"expected": {
"href": "https://example.com/",
"host": "example.com",
"hostname": "example.com"
}
},
{
"href": "https://example.com/",
"new_value": "%C2%AD",
"expected": {
"href": "https://example.com/",
"host": "example.com",
"hostname": "example.com"
}
},
{
"href": "https://example.com/",
"new_value": "xn--",
"expected": {
"href": "https://xn--/",
"host": "xn--",
"hostname": "xn--"
}
},
{
"href": "https://test.invalid/",
"new_value": "*",
"expected": {
"href": "https://*/",
"host": "*",
"hostname": "*"
}
},
{
"href": "https://test.invalid/",
"new_value": "x@x",
"expected": {
"href": "https://test.invalid/",
"host": "test.invalid",
"hostname": "test.invalid"
}
},
{
"href": "https://test.invalid/",
"new_value": "foo\t\r\nbar",
"expected": {
"href": "https://foobar/",
"host": "foobar",
"hostname": "foobar"
}
},
{
"href": "https://test.invalid/",
"new_value": "><",
"expected": {
"href": "https://test.invalid/",
"host": "test.invalid",
"hostname": "test.invalid"
}
},
{
"href": "https://test.invalid/",
"new_value": "test/@aaa",
"expected": {
"href": "https://test/",
"host": "test",
"hostname": "test"
}
},
{
"href": "https://test.invalid/",
"new_value": "test/:aaa",
"expected": {
"href": "https://test/",
"host": "test",
"hostname": "test"
}
}
],
"port": [
{
"href": "http://example.net",
"new_value": "8080",
"expected": {
"href": "http://example.net:8080/",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Port number is removed if empty is the new value",
"href": "http://example.net:8080",
"new_value": "",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net",
"port": ""
}
},
{
"comment": "Default port number is removed",
"href": "http://example.net:8080",
"new_value": "80",
"expected": {
"href": "http://example.net/",
"host": "example.net",
"hostname": "example.net",
"port": ""
}
},
{
"comment": "Default port number is removed",
"href": "https://example.net:4433",
"new_value": "443",
"expected": {
"href": "https://example.net/",
"host": "example.net",
"hostname": "example.net",
"port": ""
}
},
{
"comment": "Default port number is only removed for the relevant scheme",
"href": "https://example.net",
"new_value": "80",
"expected": {
"href": "https://example.net:80/",
"host": "example.net:80",
"hostname": "example.net",
"port": "80"
}
},
{
"comment": "Stuff after a / delimiter is ignored",
"href": "http://example.net/path",
"new_value": "8080/stuff",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Stuff after a ? delimiter is ignored",
"href": "http://example.net/path",
"new_value": "8080?stuff",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Stuff after a # delimiter is ignored",
"href": "http://example.net/path",
"new_value": "8080#stuff",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Stuff after a \\ delimiter is ignored for special schemes",
"href": "http://example.net/path",
"new_value": "8080\\stuff",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "view-source+http://example.net/path",
"new_value": "8080stuff2",
"expected": {
"href": "view-source+http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "http://example.net/path",
"new_value": "8080stuff2",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Anything other than ASCII digit stops the port parser in a setter but is not an error",
"href": "http://example.net/path",
"new_value": "8080+2",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Port numbers are 16 bit integers",
"href": "http://example.net/path",
"new_value": "65535",
"expected": {
"href": "http://example.net:65535/path",
"host": "example.net:65535",
"hostname": "example.net",
"port": "65535"
}
},
{
"comment": "Port numbers are 16 bit integers, overflowing is an error",
"href": "http://example.net:8080/path",
"new_value": "65536",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Setting port to a string that doesn't parse as a number",
"href": "http://example.net:8080/path",
"new_value": "randomstring",
"expected": {
"href": "http://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"comment": "Port numbers are 16 bit integers, overflowing is an error",
"href": "non-special://example.net:8080/path",
"new_value": "65536",
"expected": {
"href": "non-special://example.net:8080/path",
"host": "example.net:8080",
"hostname": "example.net",
"port": "8080"
}
},
{
"href": "file://test/",
"new_value": "12",
"expected": {
"href": "file://test/",
"port": ""
}
},
{
"href": "file://localhost/",
"new_value": "12",
"expected": {
"href": "file:///",
"port": ""
}
},
{
"href": "non-base:value",
"new_value": "12",
"expected": {
"href": "non-base:value",
"port": ""
}
},
{
"href": "sc:///",
"new_value": "12",
"expected": {
"href": "sc:///",
"port": ""
}
},
{
"href": "sc://x/",
"new_value": "12",
"expected": {
"href": "sc://x:12/",
"port": "12"
}
},
{
"href": "javascript://x/",
"new_value": "12",
"expected": {
"href": "javascript://x:12/",
"port": "12"
}
},
{
"comment": "Leading u0009 on special scheme",
"href": "https://domain.com:443",
"new_value": "\t8080",
"expected": {
"href": "https://domain.com:8080/",
"port": "8080"
}
},
{
"comment": "Leading u0009 on non-special scheme",
"href": "wpt++://domain.com:443",
"new_value": "\t8080",
"expected": {
"href": "wpt++://domain.com:8080",
"port": "8080"
}
},
{
"comment": "Should use all ascii prefixed characters as port",
"href": "https://www.google.com:4343",
"new_value": "4wpt",
"expected": {
"href": "https://www.google.com:4/",
"port": "4"
}
},
{
"href": "https://domain.com:3000",
"new_value": "\n\t80\n\t80\n\t",
"expected": {
"href": "https://domain.com:8080/",
"port": "8080"
}
},
{
"href": "https://domain.com:3000",
"new_value": "\n\n\t\t",
"expected": {
"href": "https://domain.com:3000/",
"port": "3000"
}
}
],
"pathname": [
{
"comment": "Opaque paths cannot be set",
"href": "mailto:me@example.net",
"new_value": "/foo",
"expected": {
"href": "mailto:me@example.net",
"pathname": "me@example.net"
}
},
{
"href": "data:original",
"new_value": "new value",
"expected": {
"href": "data:original",
"pathname": "original"
}
},
{
"href": "sc:original",
"new_value": "new value",
"expected": {
"href": "sc:original",
"pathname": "original"
}
},
{
"comment": "Special URLs cannot have their paths erased",
"href": "file:///some/path",
"new_value": "",
"expected": {
"href": "file:///",
"pathname": "/"
}
},
{
"comment": "Non-special URLs can have their paths erased",
"href": "foo://somehost/some/path",
"new_value": "",
"expected": {
"href": "foo://somehost",
"pathname": ""
}
},
{
"comment": "Non-special URLs with an empty host can have their paths erased",
"href": "foo:///some/path",
"new_value": "",
"expected": {
"href": "foo://",
"pathname": ""
}
},
{
"comment": "Path-only URLs cannot have their paths erased",
"href": "foo:/some/path",
"new_value": "",
"expected": {
"href": "foo:/",
"pathname": "/"
}
},
{
"comment": "Path-only URLs always have an initial slash",
"href": "foo:/some/path",
"new_value": "test",
"expected": {
"href": "foo:/test",
"pathname": "/test"
}
},
{
"href": "unix:/run/foo.socket?timeout=10",
"new_value": "/var/log/../run/bar.socket",
"expected": {
"href": "unix:/var/run/bar.socket?timeout=10",
"pathname": "/var/run/bar.socket"
}
},
{
"href": "https://example.net#nav",
"new_value": "home",
"expected": {
"href": "https://example.net/home#nav",
"pathname": "/home"
}
},
{
"href": "https://example.net#nav",
"new_value": "../home",
"expected": {
"href": "https://example.net/home#nav",
"pathname": "/home"
}
},
{
"comment": "\\ is a segment delimiter for 'special' URLs",
"href": "http://example.net/home?lang=fr#nav",
"new_value": "\\a\\%2E\\b\\%2e.\\c",
"expected": {
"href": "http://example.net/a/c?lang=fr#nav",
"pathname": "/a/c"
}
},
{
"comment": "\\ is *not* a segment delimiter for non-'special' URLs",
"href": "view-source+http://example.net/home?lang=fr#nav",
"new_value": "\\a\\%2E\\b\\%2e.\\c",
"expected": {
"href": "view-source+http://example.net/\\a\\%2E\\b\\%2e.\\c?lang=fr#nav",
"pathname": "/\\a\\%2E\\b\\%2e.\\c"
}
},
{
"comment": "UTF-8 percent encoding with the default encode set. Tabs and newlines are removed.",
"href": "a:/",
"new_value": "\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "a:/%00%01%1F%20!%22%23$%&'()*+,-./09:;%3C=%3E%3F@AZ[\\]%5E_%60az%7B|%7D~%7F%C2%80%C2%81%C3%89%C3%A9",
"pathname": "/%00%01%1F%20!%22%23$%&'()*+,-./09:;%3C=%3E%3F@AZ[\\]%5E_%60az%7B|%7D~%7F%C2%80%C2%81%C3%89%C3%A9"
}
},
{
"comment": "Bytes already percent-encoded are left as-is, including %2E outside dotted segments.",
"href": "http://example.net",
"new_value": "%2e%2E%c3%89t\u00e9",
"expected": {
"href": "http://example.net/%2e%2E%c3%89t%C3%A9",
"pathname": "/%2e%2E%c3%89t%C3%A9"
}
},
{
"comment": "? needs to be encoded",
"href": "http://example.net",
"new_value": "?",
"expected": {
"href": "http://example.net/%3F",
"pathname": "/%3F"
}
},
{
"comment": "# needs to be encoded",
"href": "http://example.net",
"new_value": "#",
"expected": {
"href": "http://example.net/%23",
"pathname": "/%23"
}
},
{
"comment": "? needs to be encoded, non-special scheme",
"href": "sc://example.net",
"new_value": "?",
"expected": {
"href": "sc://example.net/%3F",
"pathname": "/%3F"
}
},
{
"comment": "# needs to be encoded, non-special scheme",
"href": "sc://example.net",
"new_value": "#",
"expected": {
"href": "sc://example.net/%23",
"pathname": "/%23"
}
},
{
"comment": "? doesn't mess up encoding",
"href": "http://example.net",
"new_value": "/?\u00e9",
"expected": {
"href": "http://example.net/%3F%C3%A9",
"pathname": "/%3F%C3%A9"
}
},
{
"comment": "# doesn't mess up encoding",
"href": "http://example.net",
"new_value": "/#\u00e9",
"expected": {
"href": "http://example.net/%23%C3%A9",
"pathname": "/%23%C3%A9"
}
},
{
"comment": "File URLs and (back)slashes",
"href": "file://monkey/",
"new_value": "\\\\",
"expected": {
"href": "file://monkey//",
"pathname": "//"
}
},
{
"comment": "File URLs and (back)slashes",
"href": "file:///unicorn",
"new_value": "//\\/",
"expected": {
"href": "file://////",
"pathname": "////"
}
},
{
"comment": "File URLs and (back)slashes",
"href": "file:///unicorn",
"new_value": "//monkey/..//",
"expected": {
"href": "file://///",
"pathname": "///"
}
},
{
"comment": "Serialize /. in path",
"href": "non-spec:/",
"new_value": "/.//p",
"expected": {
"href": "non-spec:/.//p",
"pathname": "//p"
}
},
{
"href": "non-spec:/",
"new_value": "/..//p",
"expected": {
"href": "non-spec:/.//p",
"pathname": "//p"
}
},
{
"href": "non-spec:/",
"new_value": "//p",
"expected": {
"href": "non-spec:/.//p",
"pathname": "//p"
}
},
{
"comment": "Drop /. from path",
"href": "non-spec:/.//",
"new_value": "p",
"expected": {
"href": "non-spec:/p",
"pathname": "/p"
}
},
{
"comment": "Non-special URLs with non-opaque paths percent-encode U+0020",
"href": "data:/nospace",
"new_value": "space ",
"expected": {
"href": "data:/space%20",
"pathname": "/space%20"
}
},
{
"href": "sc:/nospace",
"new_value": "space ",
"expected": {
"href": "sc:/space%20",
"pathname": "/space%20"
}
},
{
"comment": "Trailing space should be encoded",
"href": "http://example.net",
"new_value": " ",
"expected": {
"href": "http://example.net/%20",
"pathname": "/%20"
}
},
{
"comment": "Trailing C0 control should be encoded",
"href": "http://example.net",
"new_value": "\u0000",
"expected": {
"href": "http://example.net/%00",
"pathname": "/%00"
}
},
{
"href": "foo://path/to",
"new_value": "/..",
"expected": {
"href": "foo://path/",
"pathname": "/"
}
}
],
"search": [
{
"href": "https://example.net#nav",
"new_value": "lang=fr",
"expected": {
"href": "https://example.net/?lang=fr#nav",
"search": "?lang=fr"
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "lang=fr",
"expected": {
"href": "https://example.net/?lang=fr#nav",
"search": "?lang=fr"
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "?lang=fr",
"expected": {
"href": "https://example.net/?lang=fr#nav",
"search": "?lang=fr"
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "??lang=fr",
"expected": {
"href": "https://example.net/??lang=fr#nav",
"search": "??lang=fr"
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "?",
"expected": {
"href": "https://example.net/?#nav",
"search": ""
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "",
"expected": {
"href": "https://example.net/#nav",
"search": ""
}
},
{
"href": "https://example.net?lang=en-US",
"new_value": "",
"expected": {
"href": "https://example.net/",
"search": ""
}
},
{
"href": "https://example.net",
"new_value": "",
"expected": {
"href": "https://example.net/",
"search": ""
}
},
{
"comment": "UTF-8 percent encoding with the query encode set. Tabs and newlines are removed.",
"href": "a:/",
"new_value": "\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "a:/?%00%01%1F%20!%22%23$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_`az{|}~%7F%C2%80%C2%81%C3%89%C3%A9",
"search": "?%00%01%1F%20!%22%23$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_`az{|}~%7F%C2%80%C2%81%C3%89%C3%A9"
}
},
{
"comment": "Bytes already percent-encoded are left as-is",
"href": "http://example.net",
"new_value": "%c3%89t\u00e9",
"expected": {
"href": "http://example.net/?%c3%89t%C3%A9",
"search": "?%c3%89t%C3%A9"
}
},
{
"comment": "Trailing spaces and opaque paths",
"href": "data:space ?query",
"new_value": "",
"expected": {
"href": "data:space%20",
"pathname": "space%20",
"search": ""
}
},
{
"href": "sc:space ?query",
"new_value": "",
"expected": {
"href": "sc:space%20",
"pathname": "space%20",
"search": ""
}
},
{
"comment": "Trailing spaces and opaque paths",
"href": "data:space  ?query#fragment",
"new_value": "",
"expected": {
"href": "data:space %20#fragment",
"search": ""
}
},
{
"href": "sc:space  ?query#fragment",
"new_value": "",
"expected": {
"href": "sc:space %20#fragment",
"search": ""
}
},
{
"comment": "Trailing space should be encoded",
"href": "http://example.net",
"new_value": " ",
"expected": {
"href": "http://example.net/?%20",
"search": "?%20"
}
},
{
"comment": "Trailing C0 control should be encoded",
"href": "http://example.net",
"new_value": "\u0000",
"expected": {
"href": "http://example.net/?%00",
"search": "?%00"
}
}
],
"hash": [
{
"href": "https://example.net",
"new_value": "main",
"expected": {
"href": "https://example.net/#main",
"hash": "#main"
}
},
{
"href": "https://example.net#nav",
"new_value": "main",
"expected": {
"href": "https://example.net/#main",
"hash": "#main"
}
},
{
"href": "https://example.net?lang=en-US",
"new_value": "##nav",
"expected": {
"href": "https://example.net/?lang=en-US##nav",
"hash": "##nav"
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "#main",
"expected": {
"href": "https://example.net/?lang=en-US#main",
"hash": "#main"
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "#",
"expected": {
"href": "https://example.net/?lang=en-US#",
"hash": ""
}
},
{
"href": "https://example.net?lang=en-US#nav",
"new_value": "",
"expected": {
"href": "https://example.net/?lang=en-US",
"hash": ""
}
},
{
"href": "http://example.net",
"new_value": "#foo bar",
"expected": {
"href": "http://example.net/#foo%20bar",
"hash": "#foo%20bar"
}
},
{
"href": "http://example.net",
"new_value": "#foo\"bar",
"expected": {
"href": "http://example.net/#foo%22bar",
"hash": "#foo%22bar"
}
},
{
"href": "http://example.net",
"new_value": "#foo<bar",
"expected": {
"href": "http://example.net/#foo%3Cbar",
"hash": "#foo%3Cbar"
}
},
{
"href": "http://example.net",
"new_value": "#foo>bar",
"expected": {
"href": "http://example.net/#foo%3Ebar",
"hash": "#foo%3Ebar"
}
},
{
"href": "http://example.net",
"new_value": "#foo`bar",
"expected": {
"href": "http://example.net/#foo%60bar",
"hash": "#foo%60bar"
}
},
{
"comment": "Simple percent-encoding; tabs and newlines are removed",
"href": "a:/",
"new_value": "\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "a:/#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9",
"hash": "#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9"
}
},
{
"comment": "Percent-encode NULLs in fragment",
"href": "http://example.net",
"new_value": "a\u0000b",
"expected": {
"href": "http://example.net/#a%00b",
"hash": "#a%00b"
}
},
{
"comment": "Percent-encode NULLs in fragment",
"href": "non-spec:/",
"new_value": "a\u0000b",
"expected": {
"href": "non-spec:/#a%00b",
"hash": "#a%00b"
}
},
{
"comment": "Bytes already percent-encoded are left as-is",
"href": "http://example.net",
"new_value": "%c3%89t\u00e9",
"expected": {
"href": "http://example.net/#%c3%89t%C3%A9",
"hash": "#%c3%89t%C3%A9"
}
},
{
"href": "javascript:alert(1)",
"new_value": "castle",
"expected": {
"href": "javascript:alert(1)#castle",
"hash": "#castle"
}
},
{
"comment": "Trailing spaces and opaque paths",
"href": "data:space                                                                                                                                  #fragment",
"new_value": "",
"expected": {
"href": "data:space                                                                                                                                 %20",
"pathname": "space                                                                                                                                 %20",
"hash": ""
}
},
{
"href": "sc:space    #fragment",
"new_value": "",
"expected": {
"href": "sc:space   %20",
"pathname": "space   %20",
"hash": ""
}
},
{
"comment": "Trailing spaces and opaque paths",
"href": "data:space  ?query#fragment",
"new_value": "",
"expected": {
"href": "data:space %20?query",
"hash": ""
}
},
{
"href": "sc:space  ?query#fragment",
"new_value": "",
"expected": {
"href": "sc:space %20?query",
"hash": ""
}
},
{
"comment": "Trailing space should be encoded",
"href": "http://example.net",
"new_value": " ",
"expected": {
"href": "http://example.net/#%20",
"hash": "#%20"
}
},
{
"comment": "Trailing C0 control should be encoded",
"href": "http://example.net",
"new_value": "\u0000",
"expected": {
"href": "http://example.net/#%00",
"hash": "#%00"
}
},
{
"comment": "Fragment with <> on data: URI",
"href": "data:text/plain,test",
"new_value": "#<foo> <bar>",
"expected": {
"href": "data:text/plain,test#%3Cfoo%3E%20%3Cbar%3E",
"hash": "#%3Cfoo%3E%20%3Cbar%3E"
}
},
{
"comment": "Fragment with <> on about:blank",
"href": "about:blank",
"new_value": "#<foo> <bar>",
"expected": {
"href": "about:blank#%3Cfoo%3E%20%3Cbar%3E",
"hash": "#%3Cfoo%3E%20%3Cbar%3E"
}
},
{
"comment": "Fragment percent-encode set on data: URI; tabs and newlines are removed",
"href": "data:text/plain,test",
"new_value": "#\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "data:text/plain,test#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9",
"hash": "#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9"
}
},
{
"comment": "Fragment percent-encode set on about:blank; tabs and newlines are removed",
"href": "about:blank",
"new_value": "#\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081\u00c9\u00e9",
"expected": {
"href": "about:blank#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9",
"hash": "#%00%01%1F%20!%22#$%&'()*+,-./09:;%3C=%3E?@AZ[\\]^_%60az{|}~%7F%C2%80%C2%81%C3%89%C3%A9"
}
}
],
"href": [
{
"href": "file:///var/log/system.log",
"new_value": "http://0300.168.0xF0",
"expected": {
"href": "http://192.168.0.240/",
"protocol": "http:"
}
}
]
};
