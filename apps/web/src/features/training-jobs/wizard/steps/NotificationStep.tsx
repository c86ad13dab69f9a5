import { Anchor, Checkbox, Divider, Group, Stack, TextInput, Textarea, Title } from '@mantine/core';
import { Controller, useWatch } from 'react-hook-form';
import { Link } from 'react-router';
import { NOTIFICATION_EVENTS } from '@tc/contracts';
import { useNotificationTopics } from '../../../notification-topics/api';
import { SelectField } from '../../../../ui/SelectField';
import { useWizardForm } from '../useWizardForm';

/** `offerSaving` false: editing a saved set, where saving it again is what Save does. */
export function NotificationStep({ offerSaving = true }: { offerSaving?: boolean }) {
  const { control, register, formState, setValue } = useWizardForm();
  const topics = useNotificationTopics();
  const [topic, saving] = useWatch({ control, name: ['notification.topic', 'saveConfig.enabled'] });
  const items = topics.data?.items ?? [];
  const errors = formState.errors;

  return (
    <Stack gap="md" maw={640}>
      <Title order={2} size="h4">
        Notification
      </Title>
      <SelectField
        control={control}
        name="notification.topic"
        label="Topic"
        clearable
        placeholder={topics.isPending ? 'Loading…' : items.length === 0 ? 'No topics' : 'No notification'}
        description={
          topics.isError ? (
            `Topics could not be loaded: ${topics.error.message}`
          ) : items.length === 0 && !topics.isPending ? (
            <>
              No topics yet. Create one under{' '}
              <Anchor component={Link} to="/notification-topics" size="xs">
                Notification Topics
              </Anchor>
              .
            </>
          ) : (
            'Optional. Subscribers of the topic get a signed webhook call for each chosen event.'
          )
        }
        data={items.map((t) => t.name)}
        disabled={items.length === 0}
        onPicked={(v) => {
          if (!v) setValue('notification.events', []);
        }}
      />
      <Controller
        control={control}
        name="notification.events"
        render={({ field, fieldState }) => (
          <Checkbox.Group
            label="Event"
            value={field.value}
            onChange={(v) => field.onChange(NOTIFICATION_EVENTS.filter((e) => v.includes(e)))}
            error={fieldState.error?.message}
          >
            <Group mt="xs">
              {NOTIFICATION_EVENTS.map((e) => (
                <Checkbox key={e} value={e} label={e} disabled={!topic} onBlur={field.onBlur} />
              ))}
            </Group>
          </Checkbox.Group>
        )}
      />
      {offerSaving && <Divider />}
      {offerSaving && (
        <Title order={2} size="h4">
          Saving Training Parameters
        </Title>
      )}
      {offerSaving && (
        <Checkbox
          label="Save Training Parameters"
          description="Saves this job's parameters as a set under Job Parameters, to start later jobs from."
          {...register('saveConfig.enabled')}
        />
      )}
      {offerSaving && saving && (
        <>
          <TextInput
            label="Configuration Name"
            required
            autoComplete="off"
            error={errors.saveConfig?.name?.message}
            {...register('saveConfig.name')}
          />
          <Textarea
            label="Configuration Description"
            autosize
            minRows={2}
            error={errors.saveConfig?.description?.message}
            {...register('saveConfig.description')}
          />
        </>
      )}
    </Stack>
  );
}
