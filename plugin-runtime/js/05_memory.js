"use strict";
// Memory V8 reserves outside the isolate's ArrayBuffer allocator, charged
// to the isolate's memory budget (memory_mb) like every other buffer:
// resizable ArrayBuffers and growable SharedArrayBuffers (their whole
// maxByteLength, which V8 reserves up front) and WebAssembly.Memory (its
// pages, charged before each grow). A charge is released when the object
// holding the memory is collected; it moves with ArrayBuffer.prototype
// .transfer(). Built-ins are captured here, before any script runs.
((globalThis, internals) => {
  const ops = internals.ops;
  const charge = ops.memoryCharge;
  const release = ops.memoryRelease;
  const { apply, construct, defineProperty, getOwnPropertyDescriptor, ownKeys, getPrototypeOf, setPrototypeOf } = Reflect;
  const NumberCtor = Number;
  const MathFloor = Math.floor;
  const WeakMapCtor = WeakMap;
  const WeakMapGet = WeakMap.prototype.get;
  const WeakMapSet = WeakMap.prototype.set;
  const WeakMapDelete = WeakMap.prototype.delete;
  const FR = FinalizationRegistry;
  const FRRegister = FinalizationRegistry.prototype.register;
  const FRUnregister = FinalizationRegistry.prototype.unregister;
  const TypeErrorCtor = TypeError;

  // Charged bytes by the object that holds the memory.
  const charged = new WeakMapCtor();
  const registry = new FR((bytes) => release(bytes));
  const hold = (owner, bytes) => {
    apply(WeakMapSet, charged, [owner, bytes]);
    apply(FRRegister, registry, [owner, bytes, owner]);
  };
  const drop = (owner) => {
    const bytes = apply(WeakMapGet, charged, [owner]);
    if (bytes === undefined) return 0;
    apply(WeakMapDelete, charged, [owner]);
    apply(FRUnregister, registry, [owner]);
    return bytes;
  };
  const isObject = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  /** A byte count as ToIndex would see it, or -1 when V8 will reject it. */
  const toBytes = (n) => {
    n = NumberCtor(n);
    if (n !== n) return 0;
    n = MathFloor(n);
    return n >= 0 && n <= 9007199254740991 ? n : -1;
  };

  /** Replaces `Orig` (ArrayBuffer, SharedArrayBuffer) with a constructor
   * that charges maxByteLength; everything else is the original's. */
  function wrapBuffer(name) {
    const Orig = globalThis[name];
    if (typeof Orig !== "function") return;
    const proto = Orig.prototype;
    const Wrapped = function (length, options) {
      if (new.target === undefined) throw new TypeErrorCtor(`Constructor ${name} requires 'new'`);
      if (!isObject(options)) return construct(Orig, [length], new.target);
      const max = options.maxByteLength; // read once: what V8 gets is what we charged
      if (max === undefined) return construct(Orig, [length], new.target);
      const m = NumberCtor(max);
      const bytes = toBytes(m);
      if (bytes <= 0) return construct(Orig, [length, { maxByteLength: m }], new.target);
      charge(bytes);
      let buffer;
      try {
        buffer = construct(Orig, [length, { maxByteLength: m }], new.target);
      } catch (e) {
        release(bytes);
        throw e;
      }
      hold(buffer, bytes);
      return buffer;
    };
    for (const key of ownKeys(Orig)) {
      if (key === "prototype") continue;
      defineProperty(Wrapped, key, getOwnPropertyDescriptor(Orig, key));
    }
    defineProperty(Wrapped, "prototype", { value: proto, writable: false, enumerable: false, configurable: false });
    setPrototypeOf(Wrapped, getPrototypeOf(Orig));
    defineProperty(proto, "constructor", { value: Wrapped, writable: true, enumerable: false, configurable: true });
    defineProperty(globalThis, name, { value: Wrapped, writable: true, enumerable: false, configurable: true });
    return proto;
  }

  const abProto = wrapBuffer("ArrayBuffer");
  wrapBuffer("SharedArrayBuffer");
  // transfer() may hand the same reserved memory to the new buffer.
  for (const method of ["transfer", "transferToFixedLength"]) {
    const orig = abProto && abProto[method];
    if (typeof orig !== "function") continue;
    const moved = {
      [method](...args) {
        const out = apply(orig, this, args);
        const bytes = drop(this);
        if (bytes) hold(out, bytes);
        return out;
      },
    }[method];
    defineProperty(abProto, method, { value: moved, writable: true, enumerable: false, configurable: true });
  }

  // WebAssembly.Memory: pages are charged before V8 commits them; a
  // memory's buffer keeps the memory (and so its charge) alive. V8 installs
  // the `WebAssembly` namespace afresh in a context restored from the
  // startup snapshot, so this runs after the restore (before any script).
  let wrappedMemory;
  internals.onWorkerInit((() => {
    const WA = globalThis.WebAssembly;
    const Memory = WA && WA.Memory;
    if (typeof Memory === "function" && Memory !== wrappedMemory) {
      const PAGE = 65536;
      const memProto = Memory.prototype;
      const origGrow = memProto.grow;
      const bufferGetter = getOwnPropertyDescriptor(memProto, "buffer").get;
      const bufferOwner = new WeakMapCtor();
      const Wrapped = function (descriptor) {
        if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Memory must be invoked with 'new'");
        if (!isObject(descriptor)) return construct(Memory, [descriptor], new.target);
        // Read each field once; V8 gets exactly what was charged for.
        const d = { initial: descriptor.initial, maximum: descriptor.maximum, shared: descriptor.shared };
        if (d.initial === undefined) d.initial = descriptor.minimum;
        for (const k of ["initial", "maximum"]) if (d[k] === undefined) delete d[k];
        if (d.shared === undefined) delete d.shared;
        else d.shared = !!d.shared;
        if (descriptor.address !== undefined) d.address = descriptor.address;
        if (d.initial !== undefined) d.initial = NumberCtor(d.initial);
        if (d.maximum !== undefined) d.maximum = NumberCtor(d.maximum);
        // A shared memory can grow from any agent: charge its maximum.
        const pages = toBytes(d.shared && d.maximum !== undefined ? d.maximum : d.initial);
        const bytes = pages > 0 ? pages * PAGE : 0;
        if (bytes) charge(bytes);
        let memory;
        try {
          memory = construct(Memory, [d], new.target);
        } catch (e) {
          if (bytes) release(bytes);
          throw e;
        }
        if (bytes) hold(memory, bytes);
        return memory;
      };
      for (const key of ownKeys(Memory)) {
        if (key === "prototype") continue;
        defineProperty(Wrapped, key, getOwnPropertyDescriptor(Memory, key));
      }
      defineProperty(Wrapped, "prototype", { value: memProto, writable: false, enumerable: false, configurable: false });
      setPrototypeOf(Wrapped, getPrototypeOf(Memory));
      defineProperty(memProto, "constructor", { value: Wrapped, writable: true, enumerable: false, configurable: true });
      defineProperty(memProto, "grow", {
        value: {
          grow(delta) {
            const pages = toBytes(delta);
            const bytes = pages > 0 ? pages * PAGE : 0;
            if (bytes) charge(bytes);
            let out;
            try {
              out = apply(origGrow, this, [pages < 0 ? delta : pages]);
            } catch (e) {
              if (bytes) release(bytes);
              throw e;
            }
            if (bytes) {
              const had = drop(this);
              hold(this, had + bytes);
            }
            return out;
          },
        }.grow,
        writable: true,
        enumerable: false,
        configurable: true,
      });
      defineProperty(memProto, "buffer", {
        get: {
          buffer() {
            const b = apply(bufferGetter, this, []);
            apply(WeakMapSet, bufferOwner, [b, this]);
            return b;
          },
        }.buffer,
        enumerable: false,
        configurable: true,
      });
      for (const method of ["toFixedLengthBuffer", "toResizableBuffer"]) {
        const orig = memProto[method];
        if (typeof orig !== "function") continue;
        defineProperty(memProto, method, {
          value: {
            [method]() {
              const b = apply(orig, this, []);
              apply(WeakMapSet, bufferOwner, [b, this]);
              return b;
            },
          }[method],
          writable: true,
          enumerable: false,
          configurable: true,
        });
      }
      defineProperty(WA, "Memory", { value: Wrapped, writable: true, enumerable: false, configurable: true });
      wrappedMemory = Wrapped;
    }
  }));
})
