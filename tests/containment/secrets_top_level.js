// A top level that throws with a secret in its message: the load error that
// --test and a reload print must not show it.
import process from "node:process";
JSON.parse(process.env.API_TOKEN);
export default { fetch: () => new Response("never") };
