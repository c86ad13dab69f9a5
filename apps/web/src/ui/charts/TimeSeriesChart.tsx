import { lazy, Suspense } from 'react';
import { Box, Skeleton, Text } from '@mantine/core';
import type { TimeSeriesChartProps } from './types';

export type { TimeSeries, TimeSeriesChartProps } from './types';

// uPlot (≈ 50 kB, canvas) is fetched with the first chart shown, never with the console's start.
const UPlotChart = lazy(() => import('./UPlotChart'));

/**
 * A time-series line chart (several series over epoch-millisecond x values), drawn with uPlot
 * in a lazily loaded chunk. The figure is labelled for screen readers with `ariaLabel` or the title.
 */
export function TimeSeriesChart(props: TimeSeriesChartProps) {
  const height = props.height ?? 180;
  return (
    <Box>
      <Text size="sm" fw={500} mb={4}>
        {props.title}
      </Text>
      <Suspense fallback={<Skeleton height={height + 40} aria-label={`Loading chart ${props.title}`} />}>
        <UPlotChart {...props} height={height} />
      </Suspense>
    </Box>
  );
}
