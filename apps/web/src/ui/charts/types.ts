/** One line of a time-series chart; `x` is a time in epoch milliseconds. */
export interface TimeSeries {
  label: string;
  points: { x: number; y: number }[];
  /** A CSS colour; by default the chart's palette in series order. */
  color?: string;
}

export interface TimeSeriesChartProps {
  /** Shown above the chart and read out as the chart's name. */
  title: string;
  series: TimeSeries[];
  /** Tick labels and legend values of the y axis (e.g. formatBytes); plain numbers by default. */
  formatY?: (value: number) => string;
  /** Lower end of the y axis (0 for percentages and sizes); by default fitted to the data. */
  yMin?: number;
  /** Upper end of the y axis at least this (the axis still grows with the data). */
  yMaxAtLeast?: number;
  /** Plot height in CSS pixels (default 180). */
  height?: number;
  /** Read out instead of the title (the canvas itself says nothing to a screen reader). */
  ariaLabel?: string;
  /** A plain number axis (steps, seconds) instead of times, with this label under it; times by default. */
  xNumberLabel?: string;
}

/** Every series' points on one sorted time axis (uPlot's aligned data); null where a series has none. */
export function alignSeries(series: TimeSeries[]): [number[], ...(number | null)[][]] {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const p of s.points) col[index.get(p.x)!] = p.y;
    return col;
  });
  return [xs, ...ys];
}
