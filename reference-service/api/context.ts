/** What the HTTP handlers need from the running service, built once in serve.ts. */
import type { Clock } from "../../common/clock.js";
import type { AlertMonitor } from "../alerts/monitor.js";
import type { ServiceConfig } from "../config.js";
import type { ServiceLevel } from "../contract.js";
import type { ModelState, ModelStatus } from "../ipc/protocol.js";
import type { ServiceMetrics } from "../metrics/registry.js";
import type { AdmissionControl } from "../policies/admission.js";
import type { BackendBreaker } from "../policies/breaker.js";
import type { ServingPipeline } from "../policies/pipeline.js";
import type { SupervisorStatus } from "../supervisor/supervisor.js";
import type { ResumeOutcome } from "./stream-resume.js";

export interface ModelInfo {
  readonly id: string;
  /** `any`: an upstream's model, whose task we cannot know. */
  readonly task: "generate" | "embed" | "any";
}

export interface ApiContext {
  readonly config: ServiceConfig;
  readonly clock: Clock;
  readonly admission: AdmissionControl;
  readonly pipeline: ServingPipeline;
  readonly breaker: BackendBreaker;
  readonly metrics: ServiceMetrics;
  /** Models clients may name (the catalog), whatever their current state. */
  readonly models: readonly ModelInfo[];
  /** Levels the fallback chain can serve at, best first (empty = no fallback). */
  readonly fallbackLevels: readonly ServiceLevel[];
  /** The fallback chain in the order it is tried: each level and the backend serving it. */
  readonly fallbackChain: readonly { readonly level: ServiceLevel; readonly backend: string }[];
  /** The supervised worker, or null when there is none (upstream mode). */
  workerStatus(): SupervisorStatus | null;
  /** Model lifecycle states as the worker last reported them. */
  modelStates(): readonly ModelStatus[];
  /** Live estimate of when a retry will be served (breaker, restart, queue). */
  retryAfterMs(): number;
  /** Counts stream continuations (faultline_stream_resumes_total{outcome}). */
  streamResumed(outcome: ResumeOutcome): void;
  /** The alert rules and their state (GET /v1/reliability/alerts). */
  readonly alerts: AlertMonitor;
  /** Explicit model load/unload in the worker; null when there is no worker. */
  readonly modelOps: ModelOps | null;
}

export interface ModelOps {
  load(model: string, keepAliveMs?: number): Promise<ModelState>;
  unload(model: string): Promise<ModelState>;
  /** Checks the model (sim: its verifyMs; llama: the SHA-256 of its file) without loading it. */
  verify(model: string): Promise<ModelState>;
}
