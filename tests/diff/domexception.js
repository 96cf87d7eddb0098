import { Rec } from "./prelude.js";

export default {
  async fetch() {
    const r = new Rec();
    const names = ["IndexSizeError", "HierarchyRequestError", "WrongDocumentError", "InvalidCharacterError", "NoModificationAllowedError", "NotFoundError", "NotSupportedError", "InvalidStateError", "SyntaxError", "InvalidModificationError", "NamespaceError", "InvalidAccessError", "TypeMismatchError", "SecurityError", "NetworkError", "AbortError", "URLMismatchError", "QuotaExceededError", "TimeoutError", "InvalidNodeTypeError", "DataCloneError", "EncodingError", "NotReadableError", "UnknownError", "ConstraintError", "DataError", "TransactionInactiveError", "ReadOnlyError", "VersionError", "OperationError", "NotAllowedError", "Whatever"];
    r.ck("codes", () => Object.fromEntries(names.map((n) => [n, new DOMException("m", n).code])));
    r.ck("defaults", () => {
      const d = new DOMException();
      return [d.name, d.message, d.code];
    });
    r.ck("options object name", () => {
      const d = new DOMException("m", { name: "DataError" });
      return [d.name, d.code];
    });
    r.ck("instanceof Error", () => new DOMException("x") instanceof Error);
    r.ck("toString", () => String(new DOMException("msg", "NotFoundError")));
    r.ck("toStringTag", () => Object.prototype.toString.call(new DOMException("x")));
    r.ck("has stack", () => typeof new DOMException("x").stack);
    r.ck("constants", () => [DOMException.INDEX_SIZE_ERR, DOMException.ABORT_ERR, DOMException.TIMEOUT_ERR, DOMException.DATA_CLONE_ERR, new DOMException().NOT_FOUND_ERR]);
    r.ck("own keys", () => Object.keys(new DOMException("x", "AbortError")));
    r.ck("proto keys", () => Object.getOwnPropertyNames(DOMException.prototype).filter((k) => !/^[A-Z_]+$/.test(k)).sort());
    r.ck("subclass", () => {
      class E extends DOMException {}
      const e = new E("m", "SyntaxError");
      return [e.name, e.code, e instanceof DOMException];
    });
    r.ck("thrown by API", () => {
      try {
        atob("*");
      } catch (e) {
        return [e instanceof DOMException, e.name, e.code];
      }
    });
    return r.response();
  },
};
