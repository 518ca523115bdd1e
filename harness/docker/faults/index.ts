import type { AnyInjector } from "../../faults/injector.js";
import { containerKill } from "./container-kill.js";
import { containerMemoryLimit } from "./container-memory-limit.js";
import { containerNetworkDisconnect } from "./container-network-disconnect.js";
import { containerPause } from "./container-pause.js";
import { containerRestart } from "./container-restart.js";
import { containerStop } from "./container-stop.js";

/**
 * The Docker fault kinds, keyed as scenarios write them: the rows harness/faults/registry.ts
 * lists (its FAULT_KINDS stays the one table; this is only their source).
 */
export const DOCKER_FAULT_KINDS = {
  "container-kill": containerKill,
  "container-stop": containerStop,
  "container-restart": containerRestart,
  "container-pause": containerPause,
  "container-memory-limit": containerMemoryLimit,
  "container-network-disconnect": containerNetworkDisconnect,
} satisfies Record<string, AnyInjector>;
