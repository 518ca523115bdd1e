import { processSignalInjector } from "../process-signal.js";

export const processKill = processSignalInjector(
  "process-kill",
  "SIGKILL",
  "Kill a process at once with SIGKILL (a crash: no cleanup, no drain)",
);
