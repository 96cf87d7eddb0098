//! `URL`'s native half: ada's parser and setters, as in workerd.

use crate::error::OpError;
use crate::jsg::ops::{js_value, string_arg, throw};

/// The components the bootstrap's URL class keeps (12_url.js's indices).
fn url_components<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    url: &ada_url::Url,
) -> Result<v8::Local<'s, v8::Value>, OpError> {
    let origin = url.origin();
    let parts = [
        url.href(),
        url.protocol(),
        url.username(),
        url.password(),
        url.host(),
        url.hostname(),
        url.port(),
        url.pathname(),
        url.search(),
        url.hash(),
        &origin,
    ];
    let mut elems = Vec::with_capacity(parts.len());
    for p in parts {
        // A URL can outgrow its input (percent-encoding triples a byte):
        // past V8's string limit it is a RangeError, not a crash.
        elems.push(js_value(scope, p)?);
    }
    Ok(v8::Array::new_with_elements(scope, &elems).into())
}

fn set_url_components(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, url: &ada_url::Url) {
    match url_components(scope, url) {
        Ok(v) => rv.set(v),
        Err(e) => throw(scope, e),
    }
}

/// `urlParse(input, base?)` -> components or null. The parser is ada's,
/// as in workerd, so that URLs serialise byte for byte as they do there.
pub(crate) fn op_url_parse(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let input = match string_arg(scope, args.get(0), "url") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let base = if args.get(1).is_null_or_undefined() {
        None
    } else {
        match string_arg(scope, args.get(1), "base") {
            Ok(s) => Some(s),
            Err(e) => return throw(scope, e),
        }
    };
    match ada_url::Url::parse(input.as_str(), base.as_deref()) {
        Ok(u) => set_url_components(scope, &mut rv, &u),
        Err(_) => rv.set_null(),
    }
}

/// `urlSet(href, setter, value)` -> components (null when `href` is set to
/// something that does not parse). Every other setter that cannot apply
/// its value leaves the URL as it was, as the URL standard says.
pub(crate) fn op_url_set(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let strings = (|| -> Result<_, OpError> {
        Ok((
            string_arg(scope, args.get(0), "href")?,
            string_arg(scope, args.get(1), "setter")?,
            string_arg(scope, args.get(2), "value")?,
        ))
    })();
    let (href, setter, value) = match strings {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let Ok(mut url) = ada_url::Url::parse(href.as_str(), None) else {
        return rv.set_null();
    };
    let value = value.as_str();
    // A setter's result is ignored on purpose: one that cannot apply its
    // value is a no-op, except href, whose failure the caller throws.
    match setter.as_str() {
        "href" => {
            if url.set_href(value).is_err() {
                return rv.set_null();
            }
        }
        "protocol" => _ = url.set_protocol(value),
        "username" => _ = url.set_username(Some(value)),
        "password" => _ = url.set_password(Some(value)),
        "host" => _ = url.set_host(Some(value)),
        "hostname" => _ = url.set_hostname(Some(value)),
        "port" => _ = url.set_port(Some(value)),
        "pathname" => _ = url.set_pathname(Some(value)),
        "search" => url.set_search(Some(value)),
        "hash" => url.set_hash(Some(value)),
        _ => return rv.set_null(),
    }
    set_url_components(scope, &mut rv, &url);
}
