import { Box, Text } from "ink";
import { OUTCOMES } from "../../common/outcome.js";
import { clockTime, fit, gib, latency, percent, rate, sparkline } from "./format.js";
import type { LiveFaultTimes, UptimeView } from "./levels.js";
import type { BudgetView, DashboardFrame, HealthView, SloStanding } from "./types.js";

/**
 * The dashboard's sections as small components with readonly props, each a few fixed-width
 * lines so the whole frame fits 80x24. Meaning is always in the words (OK, BREACH, ACTIVE,
 * PAUSED); colour only repeats it.
 */
export const WIDTH = 80;
const LABEL = 10;
const HISTORY = 24;
export const MAX_SLO_ROWS = 4;
export const MAX_FAULT_ROWS = 4;

export type Phase = "running" | "stopping" | "aborting" | "ended";

const PHASE_WORD: { readonly [P in Phase]: string } = {
  running: "RUNNING",
  stopping: "STOPPING",
  aborting: "ABORTING",
  ended: "ENDED",
};

function Row(props: { readonly label: string; readonly children: React.ReactNode }) {
  return (
    <Box width={WIDTH}>
      <Box width={LABEL} flexShrink={0}>
        <Text bold>{props.label}</Text>
      </Box>
      <Text wrap="truncate">{props.children}</Text>
    </Box>
  );
}

export function Header(props: { readonly frame: DashboardFrame; readonly phase: Phase }) {
  const { frame, phase } = props;
  const remaining =
    frame.plannedMs === null ? "no planned end" : `remaining ${clockTime(frame.plannedMs - frame.elapsedMs)}`;
  return (
    <Box width={WIDTH} justifyContent="space-between">
      <Text bold>{fit(`faultline · ${frame.title}`, 36)}</Text>
      <Text>
        elapsed {clockTime(frame.elapsedMs)} {remaining}{" "}
        <Text color={phase === "running" ? "green" : "yellow"} bold>
          {PHASE_WORD[phase]}
        </Text>
      </Text>
    </Box>
  );
}

export function Traffic(props: { readonly frame: DashboardFrame }) {
  const { rate: r, perSecond, latency: l } = props.frame;
  const burst = r.multiplier === 1 ? "" : ` (x${r.multiplier})`;
  const trend = sparkline(l.history.slice(-HISTORY));
  return (
    <>
      <Row label="Rate">
        {rate(r.achieved)}/s sent of {rate(r.target)}/s target{burst}, in flight {r.inFlight}
      </Row>
      <Row label="Last 1s">{OUTCOMES.map((o) => `${o} ${perSecond[o]}`).join("  ")}</Row>
      <Row label="Latency">
        {`p50 ${latency(l.p50)}  p95 ${latency(l.p95)}  p99 ${latency(l.p99)}`}
        {trend === "" ? "" : `  p99/s ${trend}`}
      </Row>
    </>
  );
}

const LEVEL_WORD = { answered: "answered", full: "full service" } as const;

/** Availability at both levels side by side, then the error budget at the SLO's level. */
export function Budget(props: { readonly budget: BudgetView }) {
  const b = props.budget;
  const at = (good: number): number | null => (b.requests === 0 ? null : good / b.requests);
  const left = b.budget - b.bad;
  const share = b.budget > 0 ? ` (${Math.max(0, Math.round((left / b.budget) * 100))}%)` : "";
  const budget =
    left >= 0
      ? `left ${left.toFixed(1)} of ${b.budget.toFixed(1)} bad${share}`
      : `SPENT: ${b.bad} bad > ${b.budget.toFixed(1)}`;
  return (
    <>
      <Row label="Avail">{`answered ${percent(at(b.answered))}  full ${percent(at(b.full))}  of ${b.requests}`}</Row>
      <Row label="Budget">
        {`SLO ${percent(b.slo)} at ${LEVEL_WORD[b.level]}: `}
        <Text color={left >= 0 ? undefined : "red"}>{budget}</Text>
      </Row>
    </>
  );
}

/** Uptime at both levels, and the latest finished fault's three times (one-second steps). */
export function Levels(props: { readonly uptime: UptimeView; readonly lastFault: LiveFaultTimes | null }) {
  const u = props.uptime;
  const f = props.lastFault;
  const upTo = (ms: number | null): string => (ms === null ? "not yet" : `<=${(ms / 1000).toFixed(0)}s`);
  return (
    <>
      <Row label="Uptime">
        {`answered ${percent(u.answered)}  full ${percent(u.full)}  (${(u.windowMs / 1000).toFixed(0)}s windows up at >= ${percent(u.threshold, 1)})`}
      </Row>
      <Row label="Recovery">
        <Text wrap="truncate">
          {f === null
            ? "no fault finished yet"
            : `${fit(f.id, 16)}: signal ${f.signalMs === null ? "none seen" : upTo(f.signalMs)}, answered ${upTo(f.answeredMs)}, full ${upTo(f.fullMs)}`}
        </Text>
      </Row>
    </>
  );
}

const SLO_WORD = { meeting: "OK", breaching: "BREACH", pending: "--" } as const;
const SLO_COLOR = { meeting: "green", breaching: "red", pending: undefined } as const;

export function Slos(props: { readonly slos: readonly SloStanding[] }) {
  const shown = props.slos.slice(0, MAX_SLO_ROWS);
  const more = props.slos.length - shown.length;
  return (
    <>
      <Row label="SLOs">
        {props.slos.length === 0 ? "none declared" : more > 0 ? `${more} more not shown` : ""}
      </Row>
      {shown.map((s) => (
        <Box key={s.id} width={WIDTH}>
          <Box width={LABEL} flexShrink={0}>
            <Text color={SLO_COLOR[s.state]} bold={s.state === "breaching"}>
              {"  "}
              {SLO_WORD[s.state]}
            </Text>
          </Box>
          <Text wrap="truncate">
            {fit(s.id, 24).padEnd(26)}
            {s.detail}
          </Text>
        </Box>
      ))}
    </>
  );
}

const yesNo = (v: boolean | null, yes: string, no: string): string => (v === null ? "?" : v ? yes : no);

export function Health(props: { readonly health: HealthView }) {
  const h = props.health;
  const vram =
    h.vramUsedBytes === null || h.vramTotalBytes === null
      ? "?"
      : `${gib(h.vramUsedBytes)}/${gib(h.vramTotalBytes)} GiB`;
  const breakers =
    h.breakers.length === 0
      ? "?"
      : h.breakers.map((b) => `${b.name} ${b.state === "open" ? "OPEN" : b.state}`).join(", ");
  const anyOpen = h.breakers.some((b) => b.state !== "closed");
  return (
    <>
      <Row label="Target">
        <Text color={h.ready === false ? "red" : undefined}>ready {yesNo(h.ready, "yes", "NO")}</Text>
        {"  "}worker {yesNo(h.workerUp, "up", "DOWN")}
        {"  "}restarts {h.restarts ?? "?"}
        {"  "}VRAM {vram}
      </Row>
      <Row label="">
        breakers <Text color={anyOpen ? "yellow" : undefined}>{breakers}</Text>
      </Row>
    </>
  );
}

export function Keys(props: { readonly paused: boolean; readonly picking: boolean }) {
  const text = props.picking
    ? "Keys  up/down choose  Enter next  Esc back  Ctrl-C stop gracefully"
    : `Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p ${props.paused ? "resume" : "pause"} timeline`;
  return (
    <Box width={WIDTH}>
      <Text dimColor>{text}</Text>
    </Box>
  );
}

export function Message(props: { readonly text: string | null }) {
  return (
    <Box width={WIDTH}>
      <Text wrap="truncate">{props.text ?? " "}</Text>
    </Box>
  );
}
