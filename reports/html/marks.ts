import type { LineSeriesOption } from "echarts";
import type { FaultTiming, RunRecord } from "../../harness/record/schema.js";

/**
 * Where each fault sits on the time axis, in seconds since the run started (the x unit of
 * every chart). A fault with a planned end is shaded from start to end; an instant fault
 * (a kill) has no end, so it is shaded from its start until the service recovered, or for
 * one window when it never did, so it stays visible either way.
 */
export interface FaultSpan {
  readonly id: string;
  readonly label: string;
  readonly fromS: number;
  readonly toS: number;
  /** Where the service first signalled the fault, if it did. */
  readonly detectS: number | null;
  /** Where recovery was reached (DESIGN.md: from fault end, or fault start for an instant fault). */
  readonly recoverS: number | null;
}

export function faultSpan(fault: FaultTiming, windowMs: number): FaultSpan {
  const endMs = fault.endMs ?? fault.startMs + (fault.timeToRecoverMs ?? windowMs);
  const recoverFromMs = fault.endMs ?? fault.startMs;
  return {
    id: fault.id,
    label: `${fault.id} (${fault.kind})`,
    fromS: fault.startMs / 1000,
    toS: Math.max(endMs, fault.startMs + 1) / 1000,
    detectS: fault.timeToDetectMs === null ? null : (fault.startMs + fault.timeToDetectMs) / 1000,
    recoverS: fault.timeToRecoverMs === null ? null : (recoverFromMs + fault.timeToRecoverMs) / 1000,
  };
}

export function faultSpans(record: RunRecord): FaultSpan[] {
  return record.faults.map((f) => faultSpan(f, record.uptime.windowMs));
}

const SHADE = "rgba(214, 39, 40, 0.13)";
const DETECT = "#b45309";
const RECOVER = "#15803d";

/** The markArea/markLine options that shade fault windows and mark detect/recover on one series. */
export type Marks = Pick<LineSeriesOption, "markArea" | "markLine">;
type MarkLineDatum = NonNullable<NonNullable<LineSeriesOption["markLine"]>["data"]>[number];

export function faultMarks(spans: readonly FaultSpan[], extraLines: readonly MarkLineDatum[] = []): Marks {
  const lines: MarkLineDatum[] = [...extraLines];
  for (const s of spans) {
    if (s.detectS !== null) {
      lines.push({ name: `detect ${s.id}`, xAxis: s.detectS, lineStyle: { color: DETECT, type: "dashed" } });
    }
    if (s.recoverS !== null) {
      lines.push({
        name: `recover ${s.id}`,
        xAxis: s.recoverS,
        lineStyle: { color: RECOVER, type: "solid" },
      });
    }
  }
  return {
    markArea: {
      silent: true,
      // A dashed border as well as the fill: the fill alone vanishes over stacked areas.
      itemStyle: { color: SHADE, borderColor: "#b91c1c", borderWidth: 1, borderType: "dashed" },
      label: {
        show: true,
        position: "insideTop",
        color: "#7f1d1d",
        fontSize: 11,
        backgroundColor: "rgba(255, 255, 255, 0.85)",
        padding: [1, 3],
      },
      data: spans.map((s) => [{ name: s.label, xAxis: s.fromS }, { xAxis: s.toS }]),
    },
    markLine: {
      silent: true,
      symbol: "none",
      animation: false,
      label: { show: true, formatter: "{b}", fontSize: 10, position: "insideEndTop" },
      data: lines,
    },
  };
}

/** The fill colour of fault shading, exported so browser tests can find the shaded areas. */
export const FAULT_SHADE = SHADE;
