/** What one benchmark row reports; bench/report.ts renders these into docs/BENCHMARKS.md. */
export interface Measured {
  /** One value per repetition, in `unit`. */
  runs: number[];
  unit: string;
  /** What exactly was timed or counted. */
  what: string;
}

export interface Row {
  /** Benchmark name as given on the command line. */
  bench: string;
  title: string;
  console: Measured;
  baseline: (Measured & { name: string }) | null;
  /**
   * console ÷ baseline (medians), expressed so the goal reads naturally: for times the ratio of
   * times, for throughputs the ratio of throughputs. Null without a baseline.
   */
  ratio: number | null;
  goal: string;
  met: boolean;
  /** Secondary figures (phases, percentiles) worth a line under the table. */
  notes: string[];
  command: string;
}

export interface Phase {
  name: string;
  ms: number;
}
