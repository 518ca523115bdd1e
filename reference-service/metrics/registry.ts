/**
 * The service's Prometheus metrics (prom-client, own registry, default process metrics).
 * Names from contract.ts METRICS (the harness scrapes them), vLLM names for the concepts vLLM
 * has, `faultline_` for the rest. Live values (queue depth, running) are read at scrape time
 * through `collect`, so nothing has to remember to update them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BREAKER_STATE_VALUE, METRICS } from "../contract.js";
import type { BreakerStateName } from "../policies/breaker.js";

export type RequestOutcome = "ok" | "degraded" | "shed" | "error" | "client_closed";

export interface LiveGauges {
  running(): number;
  waiting(): number;
  inflight(): number;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Inter-token times: a tiny model on one CPU thread decodes in ~1 ms, a large one in 100s of ms. */
const TOKEN_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/* eslint-disable max-lines-per-function -- one declaration per metric, read top to bottom */
export function createMetrics(live: LiveGauges) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  const m = {
    registry,
    requests: new Counter({
      name: "faultline_requests_total",
      help: "HTTP requests by route and outcome",
      labelNames: ["route", "outcome", "status"] as const,
      registers: r,
    }),
    latency: new Histogram({
      name: "faultline_request_duration_seconds",
      help: "HTTP request latency by route and outcome",
      labelNames: ["route", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    e2eLatency: new Histogram({
      name: "vllm:e2e_request_latency_seconds",
      help: "End-to-end latency of generation requests",
      labelNames: ["model_name"] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    ttft: new Histogram({
      name: "vllm:time_to_first_token_seconds",
      help: "Time to the first token",
      labelNames: ["model_name"] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    promptTokens: new Counter({
      name: "vllm:prompt_tokens_total",
      help: "Prompt tokens processed",
      labelNames: ["model_name"] as const,
      registers: r,
    }),
    generationTokens: new Counter({
      name: "vllm:generation_tokens_total",
      help: "Generation tokens produced",
      labelNames: ["model_name"] as const,
      registers: r,
    }),
    timePerOutputToken: new Histogram({
      name: "vllm:time_per_output_token_seconds",
      help: "Time per output token after the first (decode speed; tokens/s is its inverse)",
      labelNames: ["model_name"] as const,
      buckets: TOKEN_BUCKETS,
      registers: r,
    }),
    kvCacheUsage: new Gauge({
      name: "vllm:kv_cache_usage_perc",
      help: "KV cache usage, 0 to 1 (engine llama: share of its context sequences held by requests)",
      registers: r,
    }),
    modelLoadSeconds: new Gauge({
      name: "faultline_model_load_seconds",
      help: "Duration of the last real load of each model in the worker (engine llama; vLLM has no such metric)",
      labelNames: ["model"] as const,
      registers: r,
    }),
    modelVerifySeconds: new Gauge({
      name: "faultline_model_verify_seconds",
      help: "Duration of the SHA-256 check of each model's file in its last real load (engine llama; part of faultline_model_load_seconds)",
      labelNames: ["model"] as const,
      registers: r,
    }),
    requestSuccess: new Counter({
      name: "vllm:request_success_total",
      help: "Finished generation requests by finish reason",
      labelNames: ["model_name", "finished_reason"] as const,
      registers: r,
    }),
    running: new Gauge({
      name: METRICS.requestsRunning,
      help: "Requests being served",
      registers: r,
      collect() {
        this.set(live.running());
      },
    }),
    waiting: new Gauge({
      name: METRICS.requestsWaiting,
      help: "Requests waiting in the admission queue",
      registers: r,
      collect() {
        this.set(live.waiting());
      },
    }),
    breakerState: new Gauge({
      name: METRICS.breakerState,
      help: "Circuit breaker state: 0 closed, 1 open, 2 half_open",
      labelNames: ["backend"] as const,
      registers: r,
    }),
    breakerTransitions: new Counter({
      name: METRICS.breakerTransitions,
      help: "Circuit breaker state transitions",
      labelNames: ["backend", "from", "to"] as const,
      registers: r,
    }),
    fallbacks: new Counter({
      name: METRICS.fallbacks,
      help: "Requests answered (or not) by a fallback, by the backend that failed, the one that answered, and why",
      labelNames: ["from", "to", "reason"] as const,
      registers: r,
    }),
    recoveryLadderSteps: new Counter({
      name: METRICS.recoveryLadderSteps,
      help: "Recovery ladder steps run (write-up 002), by ladder, step and outcome: answered, failed, or skipped",
      labelNames: ["ladder", "step", "outcome"] as const,
      registers: r,
    }),
    retries: new Counter({
      name: "faultline_retries_total",
      help: "Retries of backend calls",
      labelNames: ["backend", "reason"] as const,
      registers: r,
    }),
    rejections: new Counter({
      name: METRICS.rejections,
      help: "Requests refused by admission control",
      labelNames: ["code", "reason"] as const,
      registers: r,
    }),
    workerRestarts: new Counter({
      name: METRICS.workerRestarts,
      help: "Worker restarts by cause",
      labelNames: ["cause"] as const,
      registers: r,
    }),
    workerUp: new Gauge({ name: METRICS.workerUp, help: "1 while a worker process is up", registers: r }),
    workerGivenUp: new Gauge({
      name: "faultline_worker_restart_budget_exhausted",
      help: "1 when the supervisor spent its restart budget and stopped restarting",
      registers: r,
    }),
    ipcFramesCorrupt: new Counter({
      name: METRICS.ipcFramesCorrupt,
      help: "IPC frames rejected, by reason",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    vramUsed: new Gauge({
      name: METRICS.vramUsed,
      help: "Simulated GPU memory in use (from the heartbeat)",
      registers: r,
    }),
    vramTotal: new Gauge({ name: METRICS.vramTotal, help: "Simulated GPU memory capacity", registers: r }),
    modelState: new Gauge({
      name: METRICS.modelState,
      help: "1 for the current lifecycle state of each model",
      labelNames: ["model", "state"] as const,
      registers: r,
    }),
    gpuModelsResident: new Gauge({
      name: METRICS.gpuModelsResident,
      help: "GPU models resident in the worker (loading, ready, draining or unloading), from the heartbeat",
      registers: r,
    }),
    // The worker counts at every model state change, so an overlap shorter than a heartbeat
    // interval still shows here; a sampled gauge would miss it.
    gpuModelsResidentMax: new Gauge({
      name: METRICS.gpuModelsResidentMax,
      help: "Most GPU models ever resident at once, over every worker since the service started",
      registers: r,
    }),
    modelLoadRetries: new Counter({
      name: METRICS.modelLoadRetries,
      help: "Retried model load attempts (worker.loadRetry), by model and outcome: loaded or failed",
      labelNames: ["model", "outcome"] as const,
      registers: r,
    }),
    modelLoadRetryWait: new Gauge({
      name: METRICS.modelLoadRetryWait,
      help: "Measured wait before the last retried load attempt of each model (worker.loadRetry's delay, as the worker's clock saw it)",
      labelNames: ["model"] as const,
      registers: r,
    }),
    modelDownloadAttempts: new Counter({
      name: METRICS.modelDownloadAttempts,
      help: "Model download attempts (a catalogue model's source), by model and outcome: ok or failed",
      labelNames: ["model", "outcome"] as const,
      registers: r,
    }),
    modelDownloads: new Counter({
      name: METRICS.modelDownloads,
      help: "Model download runs (up to worker.downloadRetry.maxAttempts attempts), by model and outcome: downloaded or failed (every attempt failed)",
      labelNames: ["model", "outcome"] as const,
      registers: r,
    }),
    modelDownloadRetryWait: new Gauge({
      name: METRICS.modelDownloadRetryWait,
      help: "Measured wait before download attempt `attempt` (2, 3, ...) of each model, in the last run that reached it (worker.downloadRetry's delay, as the worker's clock saw it)",
      labelNames: ["model", "attempt"] as const,
      registers: r,
    }),
    drainInflight: new Gauge({
      name: METRICS.drainInflight,
      help: "Requests in flight (watched during drain)",
      registers: r,
      collect() {
        this.set(live.inflight());
      },
    }),
    requestsLost: new Counter({
      name: METRICS.requestsLost,
      help: "Accepted requests not answered (drain deadline passed)",
      registers: r,
    }),
    healthChecks: new Counter({
      name: "faultline_health_checks_total",
      help: "Health probe answers by probe and result",
      labelNames: ["probe", "result"] as const,
      registers: r,
    }),
    // Labelled by the history's size, so the series is absent (not 0) before the first check.
    healthCheckSuccess: new Gauge({
      name: METRICS.healthCheckSuccessRatio,
      help: "Share of the last `window` health checks (one per alert evaluation) that passed, counted from the first that passed; absent before it",
      labelNames: ["window"] as const,
      registers: r,
    }),
    alerts: new Gauge({
      name: METRICS.alerts,
      help: "1 for each pending or firing alert (as Prometheus's ALERTS series)",
      labelNames: ["alertname", "severity", "alertstate"] as const,
      registers: r,
    }),
    // Set by each alert evaluation. Labelled so that the series is absent (not a made-up 0)
    // until the first reading (CPU: until the second, the first interval's end).
    hostCpuUtilization: new Gauge({
      name: METRICS.hostCpuUtilization,
      help: "Busy share of all host cores over the last alert evaluation interval (os.cpus() time deltas)",
      labelNames: ["cores"] as const,
      registers: r,
    }),
    hostMemoryUsed: new Gauge({
      name: METRICS.hostMemoryUsed,
      help: "Host memory in use: 1 - MemAvailable/MemTotal (/proc/meminfo; os.freemem() elsewhere)",
      labelNames: ["source"] as const,
      registers: r,
    }),
    alertNotifications: new Counter({
      name: "faultline_alert_notifications_total",
      help: "Alert webhook notifications by alert status and result (sent, failed after every attempt)",
      labelNames: ["status", "result"] as const,
      registers: r,
    }),
  };
  m.requestsLost.inc(0);
  m.workerUp.set(0);
  m.workerGivenUp.set(0);
  m.gpuModelsResidentMax.set(0);
  return m;
}
/* eslint-enable max-lines-per-function */

export type ServiceMetrics = ReturnType<typeof createMetrics>;

export function setBreakerState(metrics: ServiceMetrics, backend: string, state: BreakerStateName): void {
  metrics.breakerState.set({ backend }, BREAKER_STATE_VALUE[state]);
}

export function recordBreakerTransition(
  metrics: ServiceMetrics,
  backend: string,
  from: BreakerStateName,
  to: BreakerStateName,
): void {
  metrics.breakerTransitions.inc({ backend, from, to });
  setBreakerState(metrics, backend, to);
}

/** What a finished generation answer tells the engine metrics (GenerationResult's fields). */
export interface GenerationRecord {
  readonly model: string;
  readonly e2eMs: number;
  readonly ttftMs?: number;
  readonly finish?: string;
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
}

/**
 * The vllm:* request metrics, for answers the primary (the engine) produced: fallback answers
 * say nothing about the engine, so they are left out, as vLLM never sees them.
 */
export function recordGeneration(metrics: ServiceMetrics, g: GenerationRecord): void {
  const labels = { model_name: g.model };
  metrics.e2eLatency.observe(labels, g.e2eMs / 1000);
  if (g.ttftMs !== undefined) metrics.ttft.observe(labels, g.ttftMs / 1000);
  if (g.usage) {
    metrics.promptTokens.inc(labels, g.usage.promptTokens);
    metrics.generationTokens.inc(labels, g.usage.completionTokens);
    if (g.ttftMs !== undefined && g.usage.completionTokens > 1) {
      const decodeS = Math.max(0, g.e2eMs - g.ttftMs) / 1000;
      metrics.timePerOutputToken.observe(labels, decodeS / (g.usage.completionTokens - 1));
    }
  }
  if (g.finish !== undefined) metrics.requestSuccess.inc({ ...labels, finished_reason: g.finish });
}
