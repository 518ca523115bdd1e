import { Box, Text } from "ink";
import { clockTime, countdown, fit } from "./format.js";
import type { OccurrenceStatus } from "../faults/scheduler.js";
import type { FaultRow, TimelineView } from "./types.js";

const MAX_ROWS = 4;
const LABEL = 10;

/** Status words, at most 7 letters so the 10-column label keeps a space before the id. */
const WORD: { readonly [S in OccurrenceStatus]: string } = {
  planned: "planned",
  injecting: "INJECT",
  active: "ACTIVE",
  done: "done",
  reverted: "undone",
  failed: "failed",
  skipped: "skipped",
};

const isLive = (f: FaultRow): boolean => f.status === "active" || f.status === "injecting";

/** Which faults fit the rows: live ones first, then the next planned, then the latest finished. */
export function pickFaultRows(t: TimelineView, max = MAX_ROWS): FaultRow[] {
  const live = t.faults.filter(isLive);
  const planned = t.faults.filter((f) => f.status === "planned").sort((a, b) => a.startMs - b.startMs);
  const past = t.faults.filter((f) => !isLive(f) && f.status !== "planned").reverse();
  return [...live, ...planned, ...past].slice(0, max);
}

function timing(f: FaultRow, nowMs: number): string {
  switch (f.status) {
    case "planned":
      return `starts in ${countdown(f.startMs - nowMs)}`;
    case "injecting":
      return "injecting";
    case "active":
      return f.endMs === null ? "held until stop" : `ends in ${countdown(f.endMs - nowMs)}`;
    case "done":
    case "reverted":
      return `at ${clockTime(f.startMs)}`;
    case "failed":
      return "see record";
    case "skipped":
      return "not run";
    default: {
      const never: never = f.status;
      return never;
    }
  }
}

function FaultLine(props: { readonly fault: FaultRow; readonly nowMs: number }) {
  const f = props.fault;
  const live = isLive(f);
  const word = WORD[f.status];
  const what = f.description === "" ? `${f.kind} on ${f.target}` : `${f.description} on ${f.target}`;
  return (
    <Box width={80}>
      <Box width={LABEL} flexShrink={0}>
        <Text color={live ? "red" : undefined} bold={live}>
          {live ? "> " : "  "}
          {word}
        </Text>
      </Box>
      <Text wrap="truncate">
        {fit(f.id, 14).padEnd(15)}
        {fit(what, 32).padEnd(33)}
        {timing(f, props.nowMs)}
      </Text>
    </Box>
  );
}

export function Faults(props: { readonly timeline: TimelineView }) {
  const t = props.timeline;
  const rows = pickFaultRows(t);
  const count = (pred: (f: FaultRow) => boolean): number => t.faults.filter(pred).length;
  const summary = `${count(isLive)} active, ${count((f) => f.status === "planned")} planned, ${count((f) => !isLive(f) && f.status !== "planned")} past`;
  return (
    <>
      <Box width={80}>
        <Box width={LABEL} flexShrink={0}>
          <Text bold>Faults</Text>
        </Box>
        <Text>
          timeline t={clockTime(t.nowMs)}{" "}
          <Text color={t.paused ? "yellow" : undefined} bold={t.paused}>
            {t.paused ? "PAUSED" : "running"}
          </Text>
          {t.faults.length === 0 ? "  (none yet)" : `  ${summary}`}
        </Text>
      </Box>
      {rows.map((f) => (
        <FaultLine key={`${f.id}-${f.startMs}`} fault={f} nowMs={t.nowMs} />
      ))}
    </>
  );
}
