import { containerKill } from "./kinds/container-kill.js";
import { containerMemoryLimit } from "./kinds/container-memory-limit.js";
import { containerNetworkDisconnect } from "./kinds/container-network-disconnect.js";
import { containerPause } from "./kinds/container-pause.js";
import { containerRestart } from "./kinds/container-restart.js";
import { containerStop } from "./kinds/container-stop.js";
import { clientDisconnect } from "./kinds/client-disconnect.js";
import { cpuBurn } from "./kinds/cpu-burn.js";
import { cpuQuota } from "./kinds/cpu-quota.js";
import { gpuOom } from "./kinds/gpu-oom.js";
import type { AnyInjector } from "./injector.js";
import { hostOom } from "./kinds/host-oom.js";
import { ipcCorruption } from "./kinds/ipc-corruption.js";
import { lbOutage } from "./kinds/lb-outage.js";
import { loadBurst } from "./kinds/load-burst.js";
import { modelFileCorruption } from "./kinds/model-file-corruption.js";
import { modelLoadHang } from "./kinds/model-load-hang.js";
import { netBandwidth } from "./kinds/net-bandwidth.js";
import { netDown } from "./kinds/net-down.js";
import { netLatency } from "./kinds/net-latency.js";
import { netLimitData } from "./kinds/net-limit-data.js";
import { netResetPeer } from "./kinds/net-reset-peer.js";
import { netSlicer } from "./kinds/net-slicer.js";
import { netSlowClose } from "./kinds/net-slow-close.js";
import { netTimeout } from "./kinds/net-timeout.js";
import { processFreeze } from "./kinds/process-freeze.js";
import { processKill } from "./kinds/process-kill.js";
import { processRestart } from "./kinds/process-restart.js";
import { processTerm } from "./kinds/process-term.js";
import { replicasKill } from "./kinds/replicas-kill.js";

/**
 * Every fault kind, in one explicit table (no registration by import side effect). Adding a
 * kind = one new module in kinds/ + one row here. Keys are the `kind` scenarios write.
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
