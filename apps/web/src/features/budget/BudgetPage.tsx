import { useState } from 'react';
import { Alert, Badge, Card, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import type { Budget, JobConsumption } from '@tc/contracts';
import { Link } from 'react-router';
import { formatDateTime, formatSeconds } from '../../lib/format';
import { StatusBadge } from '../../ui/StatusBadge';
import { Pager } from '../../ui/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { useBudget, useBudgetJobs } from './api';

const PAGE_SIZE = 20;

/** Core-hours for people: two decimals, or two significant digits for the tiny amounts of short jobs. */
export function formatCoreHours(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) < 0.01) return String(+n.toPrecision(2));
  return n.toFixed(2);
}

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Card withBorder padding="sm" aria-label={label} component="section">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={600}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

function Summary({ b }: { b: Budget }) {
  // A budget of 0 is fully used, not "no budget".
  const usedPct =
    b.limitCoreHours === null ? null : b.limitCoreHours === 0 ? 100 : Math.min(100, (b.usedCoreHours / b.limitCoreHours) * 100);
  return (
    <Stack gap="sm">
      {b.inArrears && (
        <Alert color="red" role="alert" title="The account is in arrears">
          The budget is used up: new training jobs are refused until the budget (BUDGET_CORE_HOURS) is raised. Jobs already running go on.
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Figure
          label="Budget"
          value={b.limitCoreHours === null ? 'Unlimited' : `${formatCoreHours(b.limitCoreHours)} core-hours`}
          hint={b.limitCoreHours === null ? 'No budget configured' : undefined}
        />
        <Figure label="Used" value={`${formatCoreHours(b.usedCoreHours)} core-hours`} hint={`as of ${formatDateTime(b.asOf)}`} />
        <Figure
          label="Balance"
          value={b.balanceCoreHours === null ? '—' : `${formatCoreHours(b.balanceCoreHours)} core-hours`}
          hint={`1 GPU-hour counts as ${b.gpuHourWeight} core-hours`}
        />
      </SimpleGrid>
      {usedPct !== null && (
        <Progress.Root size="lg">
          {/* The section is the element with role="progressbar": it carries the name. */}
          <Progress.Section value={usedPct} color={b.inArrears ? 'red' : usedPct > 80 ? 'orange' : 'blue'} aria-label="Budget used" />
        </Progress.Root>
      )}
    </Stack>
  );
}

function ConsumptionTable({ label, items }: { label: string; items: JobConsumption[] }) {
  return (
    // A phone scrolls the table, not the page.
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label={label} striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Job</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Flavor × nodes</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Run time</Table.Th>
            <Table.Th>Core-hours</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((j) => (
            <Table.Tr key={`${j.name}-${j.version}-${j.startedAt}`}>
              <Table.Td>
                {j.status ? (
                  <Link to={`/jobs/${encodeURIComponent(j.name)}/${j.version}`}>
                    {j.name} {j.version}
                  </Link>
                ) : (
                  `${j.name} ${j.version}`
                )}
              </Table.Td>
              <Table.Td>
                {j.status ? (
                  <StatusBadge status={j.status} />
                ) : (
                  <Badge color="gray" variant="outline" style={{ textTransform: 'none' }}>
                    Deleted
                  </Badge>
                )}
              </Table.Td>
              <Table.Td>
                {j.flavor} × {j.nodes}
                <Text size="xs" c="dimmed">
                  {j.vcpus} vCPU{j.gpus ? `, ${j.gpus} GPU` : ''} per node
                </Text>
              </Table.Td>
              <Table.Td>{formatDateTime(j.startedAt)}</Table.Td>
              <Table.Td>{formatSeconds(j.hours * 3600)}</Table.Td>
              <Table.Td>{formatCoreHours(j.coreHours)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function AllJobs() {
  const [page, setPage] = useState(1);
  const jobs = useBudgetJobs(page, PAGE_SIZE);
  if (jobs.isPending) return <LoadingState label="Loading consumption…" />;
  if (jobs.isError)
    return <ErrorState title="Could not load the consumption" message={jobs.error.message} onRetry={() => void jobs.refetch()} />;
  if (jobs.data.total === 0) {
    return (
      <EmptyState title="No job has run yet">
        <Text size="sm">A job consumes core-hours from the moment it runs until it ends.</Text>
      </EmptyState>
    );
  }
  return (
    <Stack gap="xs">
      <ConsumptionTable label="Consumption per job" items={jobs.data.items} />
      <Pager page={page} total={jobs.data.total} pageSize={PAGE_SIZE} onChange={setPage} />
    </Stack>
  );
}

/** The core-hour budget (the reference's "account in arrears" rule) and what each job consumed. */
export function BudgetPage() {
  const budget = useBudget();
  return (
    <Stack gap="md">
      <div>
        <Title order={1} size="h3">
          Budget
        </Title>
        <Text size="sm" c="dimmed">
          Each job consumes its run time × nodes × (vCPUs + GPUs × weight). When the balance reaches zero the account is in arrears and no
          new job can be created.
        </Text>
      </div>
      {budget.isPending ? (
        <LoadingState label="Loading the budget…" />
      ) : budget.isError ? (
        <ErrorState title="Could not load the budget" message={budget.error.message} onRetry={() => void budget.refetch()} />
      ) : (
        <>
          <Summary b={budget.data} />
          {budget.data.jobs.length > 0 && (
            <Stack gap="xs">
              <Title order={2} size="h4">
                Top consumers
              </Title>
              <ConsumptionTable label="Top consumers" items={budget.data.jobs} />
            </Stack>
          )}
        </>
      )}
      <Title order={2} size="h4">
        All jobs
      </Title>
      <AllJobs />
    </Stack>
  );
}
