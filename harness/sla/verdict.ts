export type Comparator = "<=" | ">=" | "<" | ">";
export type SloUnit = "ratio" | "ms" | "count";

export interface SloVerdict {
  readonly id: string;
  readonly description: string;
  readonly metric: string;
  readonly comparator: Comparator;
  readonly bound: number;
  readonly measured: number | null;
  readonly unit: SloUnit;
  /** Distance to the bound in the passing direction: positive = passed by that much, negative = missed. */
  readonly margin: number | null;
  readonly passed: boolean;
  readonly faultId?: string;
}

export interface VerdictSpec {
  readonly id: string;
  readonly description: string;
  readonly metric: string;
  readonly comparator: Comparator;
  readonly bound: number;
  readonly unit: SloUnit;
  readonly faultId?: string;
}

/** Judges one measured value; a value that could not be measured (null) fails. */
export function judge(spec: VerdictSpec, measured: number | null): SloVerdict {
  const margin = measured === null ? null : marginOf(spec.comparator, measured, spec.bound);
  const passed = measured !== null && compare(spec.comparator, measured, spec.bound);
  return { ...spec, measured, margin, passed };
}

function marginOf(cmp: Comparator, measured: number, bound: number): number {
  switch (cmp) {
    case ">=":
    case ">":
      return measured - bound;
    case "<=":
    case "<":
      return bound - measured;
    default: {
      const never: never = cmp;
      return never;
    }
  }
}

function compare(cmp: Comparator, measured: number, bound: number): boolean {
  switch (cmp) {
    case ">=":
      return measured >= bound;
    case ">":
      return measured > bound;
    case "<=":
      return measured <= bound;
    case "<":
      return measured < bound;
    default: {
      const never: never = cmp;
      return never;
    }
  }
}
