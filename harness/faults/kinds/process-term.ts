import { processSignalInjector } from "../process-signal.js";

export const processTerm = processSignalInjector(
  "process-term",
  "SIGTERM",
  "Ask a process to stop with SIGTERM (graceful shutdown path)",
);
