/** One benchmark figure; `ratio` = value / baseline where a baseline measured in the same run exists. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly ratio?: number;
}
