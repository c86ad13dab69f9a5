import { useEffect, useRef, useState } from 'react';
import { Alert, Anchor, Breadcrumbs, Paper, Stack, Stepper, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { FormProvider, useForm, useWatch, type FieldPath } from 'react-hook-form';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { JobName, type CreateTrainingJobInput } from '@tc/contracts';
import { ApiRequestError } from '../../../api/client';
import { randomId } from '../../../lib/random-id';
import { ErrorState, LoadingState } from '../../../ui/states';
import { useTrainingJobConfigs } from '../../job-parameters/api';
import { nextVersion, useCreateTrainingJob, useJobVersions, useTrainingJob } from '../api';
import { useResourcePools } from '../../resource-pools/api';
import { fieldMessage, STEPS, stepOfPath, wizardResolver, type WizardContext } from './form';
import { EMPTY_VALUES, type WizardValues } from './values';
import { BasicInfoStep } from './steps/BasicInfoStep';
import { BUDGET_REFUSAL_ID, ConfirmStep } from './steps/ConfirmStep';
import { useCostEstimate } from './costEstimate';
import { JobParametersStep } from './steps/JobParametersStep';
import { NotificationStep } from './steps/NotificationStep';
import { ResourcesStep } from './steps/ResourcesStep';
import { toFormValues } from './toFormValues';
import { versionedOutput } from './versionedOutput';
import { WizardNav } from './WizardNav';

/**
 * `/jobs/new` — a new job; `?from=<name>&version=<V>` — the next version of that job, prefilled
 * with its parameters; `?config=<name>` — prefilled from a saved parameter set.
 */
export function CreateTrainingJobPage() {
  const [params] = useSearchParams();
  const from = params.get('from');
  const fromVersion = params.get('version');
  const config = params.get('config');
  const source = useTrainingJob(from ?? '', fromVersion ?? '', { enabled: !!from && !!fromVersion });
  const versions = useJobVersions(from);
  const configs = useTrainingJobConfigs();

  const title = from ? `Create New Version of ${from}` : 'Create Training Job';
  let body;
  if (from && fromVersion) {
    if (source.isPending || versions.isPending) body = <LoadingState label={`Loading ${from} ${fromVersion}…`} />;
    else if (source.isError)
      body = (
        <ErrorState title={`Could not load ${from} ${fromVersion}`} message={source.error.message} onRetry={() => void source.refetch()} />
      );
    else if (versions.isError)
      body = (
        <ErrorState title="Could not read the job's versions" message={versions.error.message} onRetry={() => void versions.refetch()} />
      );
    else {
      const version = nextVersion(versions.data);
      const initial = toFormValues(source.data.spec, from);
      body = (
        <Wizard
          key={`${from}/${fromVersion}`}
          initial={{ ...initial, trainOutput: versionedOutput(initial.trainOutput, version) }}
          fixedName
          version={version}
        />
      );
    }
  } else if (config) {
    const found = configs.data?.items.find((c) => c.name === config);
    if (configs.isPending) body = <LoadingState label={`Loading the parameter set ${config}…`} />;
    else if (configs.isError)
      body = (
        <ErrorState title="Could not load saved job parameters" message={configs.error.message} onRetry={() => void configs.refetch()} />
      );
    else if (!found)
      body = (
        <ErrorState
          title={`No saved job parameters named ${config}`}
          message="It may have been deleted. Start from an empty form instead."
        />
      );
    else
      body = (
        <Wizard key={`config/${config}`} initial={{ ...toFormValues(found.parameters), description: found.parameters.description ?? '' }} />
      );
  } else {
    body = <Wizard key="new" initial={EMPTY_VALUES} />;
  }

  return (
    <Stack gap="md" maw={1100} mx="auto">
      <Breadcrumbs>
        <Anchor component={Link} to="/jobs">
          Training Jobs
        </Anchor>
        <span>{title}</span>
      </Breadcrumbs>
      <Title order={1} size="h2">
        {title}
      </Title>
      {body}
    </Stack>
  );
}

function Wizard({ initial, fixedName = false, version }: { initial: WizardValues; fixedName?: boolean; version?: string }) {
  // The pools let the form refuse Compute Nodes no pool could ever hold, on the Resources step.
  const pools = useResourcePools();
  const context: WizardContext = { pools: pools.data?.items ?? [] };
  const form = useForm<WizardValues, unknown, CreateTrainingJobInput>({
    defaultValues: initial,
    resolver: wizardResolver,
    context,
    mode: 'onTouched',
  });
  const [active, setActive] = useState(0);
  const [reached, setReached] = useState(0);
  const [idempotencyKey] = useState(randomId);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const create = useCreateTrainingJob();
  const navigate = useNavigate();
  const last = STEPS.length - 1;
  // A name that already has jobs makes its next version, as in ModelArts: step 1 says which.
  const typedName = useWatch({ control: form.control, name: 'name' });
  const [settledName] = useDebouncedValue(typedName.trim(), 300);
  const existing = useJobVersions(!fixedName && JobName.safeParse(settledName).success ? settledName : null);
  const existingVersions = fixedName || !existing.data ? 0 : existing.data.length;
  const shownVersion = version ?? nextVersion(existing.data ?? []);
  // The server refuses a job its budget cannot cover (same rule): Submit says so first.
  const cost = useCostEstimate(form.control);

  const goTo = (step: number) => {
    setActive(step);
    setReached((r) => Math.max(r, step));
  };

  // A new step takes the focus, so keyboard and screen-reader users continue from its start.
  const stepSection = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    stepSection.current?.focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  }, [active]);

  const next = async () => {
    const fields = STEPS[active]?.fields ?? [];
    if (fields.length > 0 && !(await form.trigger(fields, { shouldFocus: true }))) return;
    goTo(Math.min(active + 1, last));
  };

  const submit = form.handleSubmit(
    async (request) => {
      if (cost.refusal) return;
      setSubmitError(null);
      try {
        const job = await create.mutateAsync({ body: request, idempotencyKey });
        void navigate(`/jobs/${encodeURIComponent(job.name)}/${encodeURIComponent(job.version)}`);
      } catch (err) {
        if (err instanceof ApiRequestError && err.fields.length > 0) {
          const onFields = err.fields.filter((f) => f.path !== '');
          for (const f of onFields)
            form.setError(f.path as FieldPath<WizardValues>, { type: 'server', message: fieldMessage(f.path, f.message) });
          // What the server said, without its request paths (`resources.nodes:`): the fields carry them too.
          const said = err.fields.map((f) => fieldMessage(f.path, f.message));
          setSubmitError(said.join('; '));
          const first = onFields[0];
          if (first) setActive(stepOfPath(first.path));
        } else {
          setSubmitError(fieldMessage('', err instanceof Error ? err.message : String(err)));
        }
      }
    },
    (errors) => {
      const firstKey = Object.keys(errors)[0];
      if (firstKey) setActive(stepOfPath(firstKey));
    },
  );

  return (
    <FormProvider {...form}>
      <form
        noValidate
        aria-label="Create training job"
        onSubmit={(e) => {
          e.preventDefault();
          // Enter in a field means Next until the last step, where it submits.
          if (active < last) void next();
          else void submit(e);
        }}
      >
        <Paper withBorder p="lg">
          <Stepper
            className="wizard-stepper"
            active={active}
            onStepClick={(s) => s <= reached && setActive(s)}
            size="sm"
            wrap={false}
            mb="xl"
            allowNextStepsSelect={false}
          >
            {STEPS.map((s, i) => (
              <Stepper.Step key={s.key} label={s.label} allowStepSelect={i <= reached} aria-current={i === active ? 'step' : undefined} />
            ))}
          </Stepper>

          {submitError && (
            <Alert role="alert" color="red" title="The job was not created" mb="md" withCloseButton onClose={() => setSubmitError(null)}>
              {submitError}
            </Alert>
          )}

          <section aria-label={STEPS[active]?.label} ref={stepSection} tabIndex={-1} style={{ outline: 'none' }}>
            {active === 0 && <BasicInfoStep fixedName={fixedName} version={shownVersion} existingVersions={existingVersions} />}
            {active === 1 && <JobParametersStep />}
            {active === 2 && <ResourcesStep />}
            {active === 3 && <NotificationStep />}
            {active === 4 && <ConfirmStep version={shownVersion} />}
          </section>

          <WizardNav
            cancelTo="/jobs"
            active={active}
            last={last}
            onBack={() => setActive(active - 1)}
            finishLabel="Submit"
            busy={form.formState.isSubmitting || create.isPending}
            blockedBy={active === last && cost.refusal ? BUDGET_REFUSAL_ID : null}
          />
        </Paper>
      </form>
    </FormProvider>
  );
}
