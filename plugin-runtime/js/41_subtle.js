"use strict";
((globalThis, internals) => {})
