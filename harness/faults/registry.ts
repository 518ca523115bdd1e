import { containerKill } from "../docker/faults/container-kill.js";
import { containerMemoryLimit } from "../docker/faults/container-memory-limit.js";
import { containerNetworkDisconnect } from "../docker/faults/container-network-disconnect.js";
import { containerPause } from "../docker/faults/container-pause.js";
import { containerRestart } from "../docker/faults/container-restart.js";
import { containerStop } from "../docker/faults/container-stop.js";
import { clientDisconnect } from "./client-disconnect.js";
import { cpuBurn } from "./cpu-burn.js";
import { cpuQuota } from "./cpu-quota.js";
import { gpuOom } from "./gpu-oom.js";
import type { AnyInjector } from "./injector.js";
import { hostOom } from "./host-oom.js";
import { ipcCorruption } from "./ipc-corruption.js";
import { lbOutage } from "./lb-outage.js";
import { loadBurst } from "./load-burst.js";
import { modelFileCorruption } from "./model-file-corruption.js";
import { modelLoadHang } from "./model-load-hang.js";
import { netBandwidth } from "./net-bandwidth.js";
import { netDown } from "./net-down.js";
import { netLatency } from "./net-latency.js";
import { netLimitData } from "./net-limit-data.js";
import { netResetPeer } from "./net-reset-peer.js";
import { netSlicer } from "./net-slicer.js";
import { netSlowClose } from "./net-slow-close.js";
import { netTimeout } from "./net-timeout.js";
import { processFreeze } from "./process-freeze.js";
import { processKill } from "./process-kill.js";
import { processRestart } from "./process-restart.js";
import { processTerm } from "./process-term.js";
import { replicasKill } from "./replicas-kill.js";

/**
 * Every fault kind, in one explicit table (no registration by import side effect). Adding a
 * kind = one new module + one row here. Keys are the `kind` scenarios write.
 */
export const FAULT_KINDS = {
  "process-kill": processKill,
  "process-term": processTerm,
  "process-freeze": processFreeze,
  "process-restart": processRestart,
  "replicas-kill": replicasKill,
  "lb-outage": lbOutage,
  "ipc-corruption": ipcCorruption,
  "gpu-oom": gpuOom,
  "model-file-corruption": modelFileCorruption,
  "model-load-hang": modelLoadHang,
  "host-oom": hostOom,
  "cpu-quota": cpuQuota,
  "cpu-burn": cpuBurn,
  "net-latency": netLatency,
  "net-bandwidth": netBandwidth,
  "net-slow-close": netSlowClose,
  "net-timeout": netTimeout,
  "net-reset-peer": netResetPeer,
  "net-slicer": netSlicer,
  "net-limit-data": netLimitData,
  "net-down": netDown,
  "load-burst": loadBurst,
  "client-disconnect": clientDisconnect,
  "container-kill": containerKill,
  "container-stop": containerStop,
  "container-restart": containerRestart,
  "container-pause": containerPause,
  "container-memory-limit": containerMemoryLimit,
  "container-network-disconnect": containerNetworkDisconnect,
} satisfies Record<string, AnyInjector>;

export type FaultKind = keyof typeof FAULT_KINDS;

export function injectorFor(kind: string): AnyInjector | undefined {
  return Object.hasOwn(FAULT_KINDS, kind) ? (FAULT_KINDS as Record<string, AnyInjector>)[kind] : undefined;
}
