"use strict";
((globalThis, internals) => {
  internals.node ??= {};
  internals.node.async_hooks = {};
})
