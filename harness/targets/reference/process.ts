import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isInvalidInputError, RunNotPossibleError } from "../../../common/errors.js";
import { killPid } from "../../../common/safe-kill.js";
import { spawnModule } from "../../../common/spawn-module.js";
import { DEFAULT_CONFIG, mergeDeep, resolveConfig } from "../../../reference-service/config.js";
import {
  ADMIN_TOKEN_ENV,
  EXIT_WITH_PARENT_ENV,
  ROUTES,
  STATE_FILES,
} from "../../../reference-service/contract.js";
import { workerConfigSchema, type WorkerConfig } from "../../../reference-service/ipc/protocol.js";
import type { TargetHandles } from "../../faults/injector.js";
import type { TargetSpec } from "../../scenario/schema.js";
import { openLog, pipeToLog, waitForLine, waitHttpOk } from "../process-io.js";
import { SLOWSTART_MS } from "../haproxy-config.js";
import { startHaproxy, type Haproxy } from "../haproxy.js";
import { startModelSource, type ModelSource } from "./model-source.js";
import { CONTAINER_LIKE_POLICY } from "../restart-policy.js";
import { recordChild } from "../../faults/started.js";
import { SupervisedProcess } from "../supervised-process.js";
import type { RunningTarget, TargetContext } from "../target.js";

type ReferenceSpec = Extract<TargetSpec, { kind: "reference" }>;

/** A problem with `target.options`, its path relative to the options. */
export interface ReferenceOptionIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly hint?: string;
}

export interface ReferenceOptionsCheck {
  readonly issues: readonly ReferenceOptionIssue[];
  /** The models the service will serve with these options (empty when the options are invalid). */
  readonly models: readonly { readonly name: string; readonly task: "generate" | "embed" }[];
  /** The model the worker preloads, if any. */
  readonly preload: string | null;
}

const OPTIONS_HINT =
  "see reference-service/config.ts (or `faultline serve-reference --help`) for every setting";

/**
 * Validates reference target options exactly as the service will at start (its own config
 * schema, then the worker's), so `validate` names a misspelled option instead of `run`
 * reporting a process that exited before it was ready. Unknown keys list the known ones.
 */
export function checkReferenceOptions(options: Record<string, unknown>): ReferenceOptionsCheck {
  const fail = (issues: ReferenceOptionIssue[]): ReferenceOptionsCheck => ({
    issues,
    models: [],
    preload: null,
  });
  let worker: unknown;
  try {
    const config = resolveConfig(options);
    if (config.upstream !== null && !/^https?:\/\//i.test(config.upstream))
      return fail([
        {
          path: ["upstream"],
          message: `expected an http:// or https:// URL, found ${JSON.stringify(config.upstream)}`,
        },
      ]);
    worker = config.worker;
  } catch (e) {
    if (!isInvalidInputError(e)) throw e;
    return fail(
      e.issues.map((i) => {
        const path = splitPath(i.path);
        const unknown = i.message === "unknown setting";
        return {
          path,
          message: unknown ? `unknown setting "${String(path[path.length - 1])}"` : i.message,
          hint: unknown ? knownKeysHint(DEFAULT_CONFIG, path.slice(0, -1)) : (i.hint ?? OPTIONS_HINT),
        };
      }),
    );
  }
  const parsed = workerConfigSchema.safeParse(worker);
  if (!parsed.success)
    return fail(
      parsed.error.issues.flatMap((i) => {
        const path = ["worker", ...i.path.map((p) => (typeof p === "number" ? p : String(p)))];
        if (i.code === "unrecognized_keys")
          return i.keys.map((k) => ({
            path: [...path, k],
            message: `unknown setting "${k}"`,
            hint: knownKeysHint({ worker: workerConfigSchema.parse({}) }, path),
          }));
        return [{ path, message: i.message, hint: OPTIONS_HINT }];
      }),
    );
  const config: WorkerConfig = parsed.data;
  return {
    issues: [],
    models: config.models.map((m) => ({ name: m.name, task: m.task })),
    preload: config.preload,
  };
}

function splitPath(path: string): (string | number)[] {
  return path
    .split(".")
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function knownKeysHint(defaults: unknown, path: readonly (string | number)[]): string {
  let node: unknown = defaults;
  for (const part of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, part)) return OPTIONS_HINT;
    node = (node as Record<string | number, unknown>)[part];
  }
  if (node === null || typeof node !== "object" || Array.isArray(node)) return OPTIONS_HINT;
  return `known settings here: ${Object.keys(node).sort().join(", ")}`;
}

const LISTENING = /listening on (http:\/\/\S+)/;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

interface Instance {
  readonly proc: SupervisedProcess;
  readonly url: string;
  readonly stateDir: string;
}

/**
 * Starts one reference service process tree (API + its worker) from its own state directory,
 * under the container-like restart policy; resolves once /health/ready answers 200.
 */
async function startInstance(
  role: string,
  home: string,
  options: Record<string, unknown>,
  spec: ReferenceSpec,
  ctx: TargetContext,
  log: ReturnType<typeof openLog>,
): Promise<Instance> {
  const stateDir = join(home, `${role}-state`);
  await mkdir(stateDir, { recursive: true });
  const configFile = join(home, `${role}-config.json`);
  await writeFile(configFile, JSON.stringify(options));
  let port = 0;
  let url = "";
  // Load/unload and breaker reset are locked for the run: nothing in a run calls them, and a
  // target on a shared CI machine should not be steerable by its neighbours. The env, not a
  // flag, so it does not show in `ps`; a token in the scenario's options wins.
  const adminToken = randomBytes(32).toString("hex");
  const proc = new SupervisedProcess({
    spawn: () => {
      const child = spawnModule(
        new URL("../../../reference-service/main.js", import.meta.url),
        ["--port", String(port), "--state-dir", stateDir, "--config", configFile],
        {
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
          env: {
            ...process.env,
            ...ctx.env,
            [ADMIN_TOKEN_ENV]: adminToken,
            [EXIT_WITH_PARENT_ENV]: String(process.pid),
          },
        },
      );
      pipeToLog(child, log);
      return child;
    },
    waitReady: async (child) => {
      const m = await waitForLine(child, LISTENING, START_TIMEOUT_MS, `the reference service (${role})`);
      url = m[1] ?? "";
      port = Number(new URL(url).port);
    },
    policy: CONTAINER_LIKE_POLICY,
    restart: spec.restart === "always",
    track: (child) => recordChild(ctx.started, `reference service ${role} (API and its worker)`, child, true),
    clock: ctx.clock,
    onEvent: (message) =>
      ctx.onEvent({ tMs: eventTime(ctx), kind: "target", message: `${role}: ${message}` }),
  });
  try {
    await proc.start();
    const failure = await waitHttpOk(`${url}${ROUTES.ready}`, START_TIMEOUT_MS, () => proc.pid() !== null);
    if (failure !== null) {
      throw new RunNotPossibleError(
        `the reference service (${role}) did not become ready: ${failure}`,
        `see ${join(ctx.runDir, "target.log")}`,
      );
    }
  } catch (e) {
    await proc.stop(STOP_TIMEOUT_MS);
    throw e;
  }
  return { proc, url, stateDir };
}

/**
 * The built-in reference service as a target: its API process runs from a fresh state
 * directory under the system temp dir, on an ephemeral port chosen at first start and kept
 * across restarts (clients keep their URL, as with a container's published port). The API
 * process is kept under a container-like restart policy, so an API crash is followed by a
 * restart the run measures. With `upstreamLink`, a second instance serves the model and the
 * API reaches it through the Toxiproxy link "api-upstream"; process, spool and GPU faults then
 * aim at that model-side instance, `api` at the front one.
 */
export async function startReference(spec: ReferenceSpec, ctx: TargetContext): Promise<RunningTarget> {
  const home = await mkdtemp(join(tmpdir(), "faultline-ref-"));
  const log = openLog(join(ctx.runDir, "target.log"));
  const started: Instance[] = [];
  let lb: Haproxy | null = null;
  let source: ModelSource | null = null;
  const stopAll = async (): Promise<void> => {
    await lb?.stop();
    for (const i of [...started].reverse()) await i.proc.stop(STOP_TIMEOUT_MS);
    await source?.close();
    log.end();
    await rm(home, { recursive: true, force: true });
  };
  try {
    // The run's alert receiver: every instance sends its alerts there (Alertmanager format).
    const base = ctx.alertWebhookUrl
      ? (mergeDeep(spec.options, { alerts: { webhookUrl: ctx.alertWebhookUrl } }) as Record<string, unknown>)
      : spec.options;
    let options = base;
    if (spec.modelSource) {
      // The worker downloads path sources from the harness's server, through link model-source.
      source = await startModelSource();
      const linked = await ctx.link("model-source", source.url);
      options = mergeDeep(options, { worker: { modelSourceUrl: linked } }) as Record<string, unknown>;
    }
    let model: Instance | null = null;
    if (spec.upstreamLink) {
      model = await startInstance("model", home, options, spec, ctx, log);
      started.push(model);
      options = { ...options, upstream: await ctx.link("api-upstream", model.url) };
    }
    const apis: Instance[] = [];
    for (let n = 1; n <= spec.replicas; n++) {
      // Every replica gets the same options (admin token included): they are copies of one service.
      const api = await startInstance(
        spec.replicas === 1 ? "api" : `api#${n}`,
        home,
        options,
        spec,
        ctx,
        log,
      );
      started.push(api);
      apis.push(api);
    }
    const first = apis[0];
    if (first === undefined) throw new RunNotPossibleError("target.replicas must be at least 1");
    if (spec.replicas === 1) {
      const modelSide = model ?? first;
      return {
        kind: "reference",
        description: spec.upstreamLink
          ? "reference service, model served by a second instance over link api-upstream"
          : "reference service",
        url: first.url,
        handles: referenceHandles(modelSide.stateDir, first.proc, modelSide.proc),
        stop: stopAll,
      };
    }
    lb = await startHaproxy(
      home,
      apis.map((a) => Number(new URL(a.url).port)),
      spec.restart === "always",
      ctx,
      () => eventTime(ctx),
    );
    return {
      kind: "reference",
      description: `reference service, ${spec.replicas} API replicas (each with its own worker) behind HAProxy`,
      url: lb.url,
      handles: replicaHandles(apis, model, lb, ctx),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Bounds on one step of a rolling restart. */
const DRAIN_WAIT_MS = 10_000;
const BACK_UP_WAIT_MS = 15_000;

function replicaHandles(
  apis: readonly Instance[],
  model: Instance | null,
  lb: Haproxy,
  ctx: TargetContext,
): TargetHandles {
  const pick = (replica: number | undefined): Instance => {
    const i = apis[(replica ?? 1) - 1];
    if (i === undefined)
      throw new RunNotPossibleError(`there is no replica #${replica ?? 1} (${apis.length} run)`);
    return i;
  };
  const event = (message: string): void => ctx.onEvent({ tMs: eventTime(ctx), kind: "target", message });
  // One replica at a time: take it out of HAProxy's rotation, let its sessions finish, restart
  // it gracefully (it drains too), put it back and wait until HAProxy's own checks see it UP.
  const rollOne = async (n: number): Promise<void> => {
    await lb.drain(n);
    const held = await lb.waitIdle(n, DRAIN_WAIT_MS);
    event(
      `api#${n}: drained in HAProxy${held > 0 ? ` (${held} sessions still open after ${DRAIN_WAIT_MS} ms)` : ""}; restarting`,
    );
    const replica = pick(n);
    await replica.proc.restartNow(STOP_TIMEOUT_MS);
    // Back into rotation only once the new process says it is ready, as a deploy tool waits for
    // a readiness probe. restartNow resolves when the API listens, before its worker is up:
    // HAProxy, whose checks had not yet marked the replica down, took it as UP at once and sent
    // it a request that a fallback answered (claims run, no-request-lost-on-restart-2-replicas:
    // 1 of 400 degraded, 3 ms after `state ready`, 55 ms before the first failing check).
    const notReady = await waitHttpOk(
      `${replica.url}${ROUTES.ready}`,
      BACK_UP_WAIT_MS,
      () => replica.proc.pid() !== null,
    );
    if (notReady !== null)
      throw new RunNotPossibleError(
        `api#${n} was not ready within ${BACK_UP_WAIT_MS} ms after its restart: ${notReady}`,
      );
    await lb.ready(n);
    await lb.waitStatus(n, "UP", BACK_UP_WAIT_MS).catch(() => {
      throw new RunNotPossibleError(
        `HAProxy did not see api#${n} UP within ${BACK_UP_WAIT_MS} ms after its restart`,
      );
    });
    event(`api#${n}: back UP in HAProxy`);
    // Let it reach its full share (slowstart) before the next replica's load moves onto it.
    await new Promise((r) => setTimeout(r, SLOWSTART_MS));
  };
  const stateDirOf = (replica: number | undefined): string => (model ?? pick(replica)).stateDir;
  return {
    stateDir: stateDirOf(1),
    replicas: apis.length,
    lbPid: () => Promise.resolve(lb.proc.pid()),
    pidOf: async (role, replica) => {
      switch (role) {
        case "api":
          return pick(replica).proc.pid();
        case "worker":
          return readPidFile(join(stateDirOf(replica), STATE_FILES.workerPid));
        case "command":
          return null;
        default: {
          const never: never = role;
          return never;
        }
      }
    },
    gpuTotalBytes: () => gpuTotalBytes(stateDirOf(1)),
    restart: async (role, replica) => {
      if (role === "worker") return restartWorker(stateDirOf(replica));
      if (role !== "api") throw new RunNotPossibleError(`the reference service has no "${role}" process`);
      if (replica !== undefined) return rollOne(replica);
      for (let n = 1; n <= apis.length; n++) await rollOne(n);
    },
  };
}

function eventTime(ctx: TargetContext): number {
  const origin = ctx.originMs();
  return origin === 0 ? 0 : ctx.clock.now() - origin;
}

async function readPidFile(path: string): Promise<number | null> {
  const text = await readFile(path, "utf8").catch(() => null);
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function referenceHandles(
  stateDir: string,
  proc: SupervisedProcess,
  _model: SupervisedProcess,
): TargetHandles {
  return {
    stateDir,
    pidOf: async (role) => {
      switch (role) {
        case "api":
          return proc.pid();
        case "worker":
          return readPidFile(join(stateDir, STATE_FILES.workerPid));
        case "command":
          return null;
        default: {
          const never: never = role;
          return never;
        }
      }
    },
    gpuTotalBytes: () => gpuTotalBytes(stateDir),
    restart: async (role) => {
      if (role === "api") return proc.restartNow(STOP_TIMEOUT_MS);
      if (role === "worker") return restartWorker(stateDir);
      throw new RunNotPossibleError(`the reference service has no "${role}" process`);
    },
  };
}

async function gpuTotalBytes(stateDir: string): Promise<number | null> {
  const text = await readFile(join(stateDir, STATE_FILES.heartbeat), "utf8").catch(() => null);
  if (text === null) return null;
  const hb = JSON.parse(text) as { vram?: { totalBytes?: unknown } };
  return typeof hb.vram?.totalBytes === "number" ? hb.vram.totalBytes : null;
}

/** Graceful worker restart: SIGTERM it and let the service's own supervisor start a new one. */
async function restartWorker(stateDir: string): Promise<void> {
  const pid = await readPidFile(join(stateDir, STATE_FILES.workerPid));
  if (pid === null) return;
  // Already gone is fine: the supervisor is restarting it anyway.
  killPid(pid, "SIGTERM");
}
