// Helpers shared by the example workers (imported relatively).
export function withPrefix(pathname, prefix) {
  if (pathname === prefix || pathname.startsWith(prefix + "/")) return pathname;
  return prefix + (pathname.startsWith("/") ? pathname : "/" + pathname);
}
