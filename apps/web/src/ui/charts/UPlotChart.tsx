import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, type TimeSeriesChartProps } from './types';

const PALETTE = ['#228be6', '#fd7e14', '#12b886', '#be4bdb', '#fa5252', '#fab005'];

/** The uPlot half of TimeSeriesChart (its own chunk); the instance follows the box's width. */
export default function UPlotChart({
  title,
  series,
  formatY,
  yMin,
  yMaxAtLeast,
  height = 180,
  ariaLabel,
  xNumberLabel,
}: TimeSeriesChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useMemo(() => alignSeries(series), [series]);
  const labels = series.map((s) => `${s.label}\u0000${s.color ?? ''}`).join('\u0001');
  // The latest data without making it an effect dependency: a new instance only when the shape changes.
  // (Effects run in order: this one first, so a new instance starts from the current data.)
  const latest = useRef(data);
  useEffect(() => {
    latest.current = data;
  }, [data]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = formatY ?? ((v: number) => String(Math.round(v * 100) / 100));
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      ms: 1,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: {
        x: { time: xNumberLabel === undefined },
        y: {
          range: (_u, min, max) => {
            const lo = yMin ?? (min === max ? min - 1 : min);
            let hi = Math.max(max, yMaxAtLeast ?? -Infinity);
            if (hi <= lo) hi = lo + 1;
            return [lo, hi];
          },
        },
      },
      axes: [xNumberLabel === undefined ? {} : { label: xNumberLabel }, { size: 70, values: (_u, splits) => splits.map((v) => fmt(v)) }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : fmt(v)),
        })),
      ],
    };
    const u = new uPlot(opts, latest.current as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // `labels` stands for the series' names and colours; the data goes in below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labels, formatY, yMin, yMaxAtLeast, height, xNumberLabel]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div ref={box} role="img" aria-label={ariaLabel ?? title} data-testid="time-series-chart" />;
}
