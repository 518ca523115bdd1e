/**
 * Model downloads with retry (write-up 002: "Model Download Retry Logic: exponential backoff
 * retry for model downloads", `model_download: max_attempts 3, initial_delay 5.0,
 * backoff_factor 2.0, max_delay 60.0`). A catalogue model with a `source` is fetched into its
 * file before its first load; after failed attempt n the next starts min(maxDelayMs,
 * initialDelayMs x backoffFactor^(n-1)) later (5 s, then 10 s with 002's numbers), up to
 * maxAttempts in all. That is one run; a later request for the model starts a new run.
 *
 * Unlike a load retry (2 s, requests wait for it), a download run waits 15 s between its three
 * attempts: a request that waited would meet its deadline instead of an answer. So a request
 * waits only for an attempt in flight; while the run waits for its next attempt, a request for
 * the model fails at once with ModelDownloadError (the API's network_error recovery ladder:
 * retry the download, then the fallback). Time comes from the injected Clock.
 */
import type { Clock } from "../../common/clock.js";
import { ModelDownloadError } from "../backend-errors.js";
import type { CatalogModel } from "../ipc/protocol.js";
import { loadRetryDelayMs, type LoadRetryOptions } from "./models.js";

/** The same shape and schedule rule as `loadRetry` (gpu/models.ts). */
export type DownloadRetryOptions = LoadRetryOptions;

/** Download attempts and runs of one model in this worker, for the heartbeat and /metrics. */
export interface DownloadStats {
  attemptsOk: number;
  attemptsFailed: number;
  /** Runs that downloaded the model, and runs whose every attempt failed. */
  runsOk: number;
  runsFailed: number;
  /** Measured wait (Clock.monotonic, whole ms) before attempt i + 2, in the last run that reached it. */
  waitsMs: number[];
}

export interface ModelDownloadsOptions {
  readonly clock: Clock;
  readonly retry: DownloadRetryOptions;
  /** True when the model's file is missing or does not match its SHA-256: it must be fetched. */
  readonly needed: (spec: CatalogModel) => Promise<boolean>;
  /** One attempt: fetches the model's source into its file; throws why it failed. */
  readonly attempt: (spec: CatalogModel) => Promise<void>;
  /** One line per attempt and wait (the worker writes them to stderr). */
  readonly log?: (line: string) => void;
}

interface Run {
  /** Settles with the attempt in flight; a new one replaces it at each attempt. */
  current: Promise<void>;
  /** Set while the run waits for its next attempt. */
  waiting: { readonly next: number; readonly atMs: number; readonly why: string } | null;
}

export class ModelDownloads {
  private readonly runs = new Map<string, Run>();
  private readonly done = new Set<string>();
  private readonly stats = new Map<string, DownloadStats>();

  constructor(private readonly o: ModelDownloadsOptions) {}

  /**
   * Resolves once `spec`'s file is in place (at once when it already was). Starts a run when
   * none is going; waits for the attempt in flight; throws ModelDownloadError when that attempt
   * failed, or at once while the run waits for its next attempt.
   */
  async ensure(spec: CatalogModel): Promise<void> {
    if (spec.source === undefined || this.done.has(spec.name)) return;
    let run = this.runs.get(spec.name);
    if (!run) {
      if (!(await this.o.needed(spec))) {
        this.done.add(spec.name);
        return;
      }
      // Another caller may have started one while this one looked at the file.
      run = this.runs.get(spec.name) ?? this.start(spec);
    }
    const { waiting } = run;
    if (waiting) {
      const inMs = Math.max(0, Math.round(waiting.atMs - this.o.clock.monotonic()));
      throw new ModelDownloadError(
        `model '${spec.name}' is not downloaded: attempt ${waiting.next - 1} of ${this.o.retry.maxAttempts} failed (${waiting.why}); attempt ${waiting.next} in ${inMs} ms`,
      );
    }
    await run.current;
  }

  /** Attempts and runs by model (only models that had one). */
  downloadStats(): Record<string, DownloadStats> {
    return Object.fromEntries([...this.stats].map(([name, s]) => [name, { ...s, waitsMs: [...s.waitsMs] }]));
  }

  private start(spec: CatalogModel): Run {
    const run: Run = { current: Promise.resolve(), waiting: null };
    this.runs.set(spec.name, run);
    void this.runAll(spec, run);
    return run;
  }

  private async runAll(spec: CatalogModel, run: Run): Promise<void> {
    const { retry, clock } = this.o;
    const st = this.statsOf(spec.name);
    const log = (line: string): void => this.o.log?.(`download of ${spec.name}: ${line}`);
    for (let attempt = 1; ; attempt++) {
      const started = clock.monotonic();
      const outcome = this.o.attempt(spec).then(
        () => null,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      run.current = outcome.then((why) => {
        if (why === null) return;
        const last = attempt >= retry.maxAttempts;
        throw new ModelDownloadError(
          `model '${spec.name}' could not be downloaded: attempt ${attempt} of ${retry.maxAttempts} failed (${why})${last ? "; no attempt left" : ""}`,
        );
      });
      // Callers await run.current; this run does not, so a failure nobody awaited is not unhandled.
      run.current.catch(() => undefined);
      const why = await outcome;
      const tookMs = Math.round(clock.monotonic() - started);
      if (why === null) {
        st.attemptsOk++;
        st.runsOk++;
        this.done.add(spec.name);
        this.runs.delete(spec.name);
        log(`attempt ${attempt} of ${retry.maxAttempts} downloaded it in ${tookMs} ms`);
        return;
      }
      st.attemptsFailed++;
      if (attempt >= retry.maxAttempts) {
        st.runsFailed++;
        this.runs.delete(spec.name);
        log(`attempt ${attempt} of ${retry.maxAttempts} failed after ${tookMs} ms (${why}); giving up`);
        return;
      }
      const delayMs = loadRetryDelayMs(retry, attempt);
      log(
        `attempt ${attempt} of ${retry.maxAttempts} failed after ${tookMs} ms (${why}); next in ${delayMs} ms`,
      );
      const waitStart = clock.monotonic();
      run.waiting = { next: attempt + 1, atMs: waitStart + delayMs, why };
      await clock.sleep(delayMs);
      run.waiting = null;
      // Whole ms, as the load retry counts it: timers have ms resolution.
      st.waitsMs[attempt - 1] = Math.round(clock.monotonic() - waitStart);
    }
  }

  private statsOf(name: string): DownloadStats {
    let s = this.stats.get(name);
    if (!s)
      this.stats.set(name, (s = { attemptsOk: 0, attemptsFailed: 0, runsOk: 0, runsFailed: 0, waitsMs: [] }));
    return s;
  }
}
