/**
 * The embedded Toxiproxy-compatible server: the real server's HTTP API and toxic semantics
 * (see README.md here for the design and the deliberate differences).
 */
export { startToxiproxyServer, type ToxiproxyServer, type ToxiproxyServerOptions } from "./server.js";
export { TOXIPROXY_VERSION } from "./api.js";
export { toxicTypes, toxicDefinition, type ToxicTypeName } from "./toxics/index.js";
