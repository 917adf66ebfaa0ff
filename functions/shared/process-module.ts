/**
 * Substituted for `node:process` when a Lambda is bundled (see lib/bundling.ts). That module is the
 * global `process` object, but importing it as an ES module makes Node build a facade that reads
 * every property of `process`, getters included, and those getters create the stdin and stdout
 * streams: about 3 ms of every cold start, for an SDK that only reads `env` and `versions` (its
 * user-agent code). These are the same objects, read from the global. A bundle that imports a name
 * not exported here fails to build; it cannot fail at run time.
 */
export const env = process.env;
export const versions = process.versions;
