"use strict";
((globalThis, internals) => {
  internals.node ??= {};
  internals.node.events = {};
})
