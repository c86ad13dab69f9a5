import type { ReactNode } from 'react';
import { Button, Checkbox, Code, Group, Modal, MultiSelect, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQueries } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import {
  MAX_COMPARED_VERSIONS,
  MIN_COMPARED_VERSIONS,
  splitComparedVersions,
  type ComparedVersion,
  type JobMetrics,
  type MetricSeries,
  type VersionComparison,
} from '@tc/contracts';
import { useState } from 'react';
import { ApiRequestError } from '../../../api/client';
import { formatSeconds } from '../../../lib/format';
import { TimeSeriesChart, type TimeSeries } from '../../../ui/charts/TimeSeriesChart';
import { EmptyState, ErrorState, LoadingState } from '../../../ui/states';
import { jobMetricsQuery, useJobVersions, useVersionComparison } from '../api';

/** The search parameter that opens the comparison with these versions, so it can be linked to. */
export const COMPARE_PARAM = 'compare';

const versionNumber = (v: string) => Number(/^V(\d+)$/.exec(v)?.[1] ?? 0);
const byVersion = (a: string, b: string) => versionNumber(a) - versionNumber(b);

/** By default, as the reference does: all versions (the newest ten), oldest first. */
export function defaultComparedVersions(versions: readonly string[]): string[] {
  return [...versions].sort(byVersion).slice(-MAX_COMPARED_VERSIONS);
}

/**
 * The "View Comparison Result" button of a job's page, and the comparison it opens. The chosen
 * versions live in the URL (`?compare=V001,V003`), so a comparison can be linked to and survives a reload.
 */
export function ViewComparisonButton({ name }: { name: string }) {
  const [params, setParams] = useSearchParams();
  const versions = useJobVersions(name);
  const all = versions.data ?? [];
  const compare = params.get(COMPARE_PARAM);
  const selected = compare === null ? [] : splitComparedVersions(compare);
  const setSelected = (next: string[] | null) =>
    setParams(
      (p) => {
        const out = new URLSearchParams(p);
        if (next === null) out.delete(COMPARE_PARAM);
        else out.set(COMPARE_PARAM, [...next].sort(byVersion).join(','));
        return out;
      },
      { replace: next !== null && compare !== null },
    );

  return (
    <>
      <Button
        size="xs"
        variant="default"
        disabled={all.length < MIN_COMPARED_VERSIONS}
        title={all.length < MIN_COMPARED_VERSIONS ? 'The job has one version: nothing to compare yet' : undefined}
        onClick={() => setSelected(defaultComparedVersions(all))}
      >
        View Comparison Result
      </Button>
      <Modal opened={compare !== null} onClose={() => setSelected(null)} title={`Comparison Result: ${name}`} size="95%">
        <Stack gap="md">
          <MultiSelect
            label="Versions"
            description={`Choose ${MIN_COMPARED_VERSIONS} to ${MAX_COMPARED_VERSIONS} versions`}
            data={[...new Set([...all, ...selected])].sort(byVersion)}
            value={selected}
            onChange={setSelected}
            maxValues={MAX_COMPARED_VERSIONS}
            searchable
          />
          {selected.length < MIN_COMPARED_VERSIONS ? (
            <EmptyState title="Choose at least two versions" testId="comparison-empty">
              <Text size="sm" c="dimmed">
                The comparison lines up the versions chosen above side by side.
              </Text>
            </EmptyState>
          ) : (
            <ComparisonResult name={name} versions={selected} />
          )}
        </Stack>
      </Modal>
    </>
  );
}

function ComparisonResult({ name, versions }: { name: string; versions: string[] }) {
  const comparison = useVersionComparison(name, versions);
  if (comparison.isPending) return <LoadingState label="Loading comparison…" />;
  if (comparison.isError && !comparison.data) {
    const missing = comparison.error instanceof ApiRequestError && comparison.error.status === 404;
    return (
      <ErrorState
        title={missing ? 'A version does not exist' : 'Could not load the comparison'}
        message={comparison.error.message}
        onRetry={missing ? undefined : () => void comparison.refetch()}
      />
    );
  }
  return (
    <Stack gap="lg">
      <ComparisonTable comparison={comparison.data} />
      <ComparisonCurves name={name} versions={comparison.data.versions.map((v) => v.version)} />
    </Stack>
  );
}

/** The spec paths of the API's `parameters`, in the wizard's words. */
const PARAMETER_LABELS: Record<string, string> = {
  'algorithm.imagePath': 'Image Path',
  'algorithm.codeDir': 'Code Directory',
  'algorithm.bootCommand': 'Boot Command',
  data: 'Data Source',
  trainOutput: 'Training Output Path',
  logPath: 'Job Log Path',
  'resources.pool': 'Resource Pool',
  'resources.type': 'Type',
  'resources.flavor': 'Specifications',
  'resources.nodes': 'Compute Nodes',
  maxRuntimeMinutes: 'Max Running Time (minutes)',
  stallWatchdog: 'Stall Watchdog',
  metrics: 'Metric Definitions',
};

/** Shown in the rows above the running parameters already. */
const SHOWN_ABOVE = new Set(['algorithm.imagePath', 'data', 'resources.flavor', 'resources.nodes']);

export function parameterLabel(key: string): string {
  if (key.startsWith('env.')) return `Environment Variable ${key.slice(4)}`;
  return PARAMETER_LABELS[key] ?? key;
}

interface Row {
  key: string;
  label: string;
  /** One cell per version; the text compared to find differences. */
  values: (string | null)[];
  render?: (value: string | null, v: ComparedVersion) => ReactNode;
  differs: boolean;
}

const mono = (v: string | null) =>
  v === null ? (
    <Text c="dimmed" span>
      —
    </Text>
  ) : (
    <Code style={{ wordBreak: 'break-all' }}>{v}</Code>
  );

function dataText(v: ComparedVersion): string {
  return v.data.source === 'path' ? (v.data.path ?? '') : `Dataset ${v.data.datasetId ?? ''} ${v.data.datasetVersion ?? ''}`;
}

function allSame(values: (string | null)[]): boolean {
  return new Set(values).size <= 1;
}

/** Every row of the comparison, with whether its versions differ there. */
export function comparisonRows(c: VersionComparison): Row[] {
  const vs = c.versions;
  const row = (key: string, label: string, values: (string | null)[], render?: Row['render']): Row => ({
    key,
    label,
    values,
    render,
    differs: !allSame(values),
  });
  const rows: Row[] = [
    row(
      'status',
      'Status',
      vs.map((v) => v.status),
    ),
    row(
      'image',
      'Image',
      vs.map((v) => `${v.imagePath}\n${v.imageDigest ?? v.imageId ?? ''}`),
      (_x, v) => (
        <>
          {mono(v.imagePath)}
          <div>
            {v.imageDigest || v.imageId ? (
              mono(v.imageDigest ?? v.imageId)
            ) : (
              <Text size="xs" c="dimmed">
                not checked yet
              </Text>
            )}
          </div>
        </>
      ),
    ),
    row('data', 'Data Source', vs.map(dataText), (x) => mono(x)),
    row(
      'flavor',
      'Specifications',
      vs.map((v) => v.flavor),
      (x) => mono(x),
    ),
    row(
      'nodes',
      'Compute Nodes',
      vs.map((v) => String(v.nodes)),
    ),
    // Whole seconds: two runs of the same job never take exactly as long.
    row(
      'duration',
      'Duration',
      vs.map((v) => (v.durationSeconds === null ? null : formatSeconds(v.durationSeconds))),
    ),
  ];
  const differing = new Set(c.differingParameters);
  const keys = [...new Set(vs.flatMap((v) => Object.keys(v.parameters)))].filter((k) => !SHOWN_ABOVE.has(k));
  for (const k of keys) {
    rows.push({
      key: `parameter:${k}`,
      label: parameterLabel(k),
      values: vs.map((v) => v.parameters[k] ?? null),
      render: (x) => mono(x),
      differs: differing.has(k),
    });
  }
  const metrics = [...new Set(vs.flatMap((v) => Object.keys(v.finalMetrics)))].sort();
  for (const m of metrics) {
    rows.push(
      row(
        `metric:${m}`,
        `Final ${m}`,
        vs.map((v) => (v.finalMetrics[m] === undefined ? null : String(v.finalMetrics[m]))),
      ),
    );
  }
  return rows;
}

/** The versions side by side, one column each; the rows where they differ are highlighted. */
export function ComparisonTable({ comparison }: { comparison: VersionComparison }) {
  const [onlyDiffering, setOnlyDiffering] = useState(false);
  const rows = comparisonRows(comparison);
  const shown = onlyDiffering ? rows.filter((r) => r.differs) : rows;
  const differing = rows.filter((r) => r.differs).length;
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {differing === 0
            ? 'The versions do not differ in anything shown.'
            : `${differing} ${differing === 1 ? 'row differs' : 'rows differ'} (highlighted).`}
        </Text>
        <Checkbox label="Only rows that differ" checked={onlyDiffering} onChange={(e) => setOnlyDiffering(e.currentTarget.checked)} />
      </Group>
      <Table.ScrollContainer minWidth={200 + 220 * comparison.versions.length}>
        <Table withTableBorder withColumnBorders layout="fixed" aria-label="Comparison Result">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={200}>Running Parameter</Table.Th>
              {comparison.versions.map((v) => (
                <Table.Th key={v.version} scope="col">
                  {v.version}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((r) => (
              <Table.Tr
                key={r.key}
                data-differs={r.differs ? 'true' : undefined}
                bg={r.differs ? 'var(--mantine-color-yellow-light)' : undefined}
              >
                <Table.Th scope="row">
                  {r.label}
                  {r.differs && (
                    <Text span size="xs" c="dimmed">
                      {' '}
                      (differs)
                    </Text>
                  )}
                </Table.Th>
                {comparison.versions.map((v, i) => (
                  <Table.Td key={v.version}>{r.render ? r.render(r.values[i] ?? null, v) : (r.values[i] ?? '—')}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/** The series a version's curve is drawn from: node 0's, or the lowest node's (as finalMetrics). */
function chosenSeries(metrics: JobMetrics, name: string): MetricSeries | undefined {
  return metrics.series.filter((s) => s.name === name).sort((a, b) => a.node - b.node)[0];
}

/**
 * Each metric's curves of the versions overlaid. Runs start at different times, so x is the step
 * when every point has one, and otherwise the seconds since the version's first value.
 */
export function overlaidCurves(
  byVersion: { version: string; metrics: JobMetrics }[],
): { name: string; xLabel: string; series: TimeSeries[] }[] {
  const names = [...new Set(byVersion.flatMap(({ metrics }) => metrics.series.map((s) => s.name)))].sort();
  return names.map((name) => {
    const chosen = byVersion.flatMap(({ version, metrics }) => {
      const s = chosenSeries(metrics, name);
      return s && s.points.length > 0 ? [{ version, points: s.points }] : [];
    });
    const bySteps = chosen.every(({ points }) => points.every((p) => p.step !== undefined));
    return {
      name,
      xLabel: bySteps ? 'Step' : 'Seconds since the first value',
      series: chosen.map(({ version, points }) => {
        const t0 = Date.parse(points[0]!.at);
        return {
          label: version,
          points: points.map((p) => ({ x: bySteps ? p.step! : (Date.parse(p.at) - t0) / 1000, y: p.value })),
        };
      }),
    };
  });
}

function ComparisonCurves({ name, versions }: { name: string; versions: string[] }) {
  const results = useQueries({ queries: versions.map((v) => jobMetricsQuery(name, v)) });
  if (results.some((r) => r.isPending)) return <LoadingState label="Loading metric curves…" />;
  const failed = results.find((r) => r.isError);
  if (failed?.error) {
    return (
      <ErrorState
        title="Could not load the metric curves"
        message={failed.error.message}
        onRetry={() => results.forEach((r) => r.isError && void r.refetch())}
      />
    );
  }
  const curves = overlaidCurves(versions.map((version, i) => ({ version, metrics: results[i]!.data ?? { series: [] } })));
  if (curves.length === 0) {
    return (
      <EmptyState title="No metric curves" testId="comparison-curves-empty">
        <Text size="sm" c="dimmed">
          None of these versions logged a metric.
        </Text>
      </EmptyState>
    );
  }
  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        Metric curves
      </Title>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        {curves.map((c) => (
          <TimeSeriesChart
            key={c.name}
            title={c.name}
            series={c.series}
            xNumberLabel={c.xLabel}
            ariaLabel={`Metric ${c.name} by version`}
          />
        ))}
      </SimpleGrid>
    </Stack>
  );
}
