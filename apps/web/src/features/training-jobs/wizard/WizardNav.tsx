import { Button, Group } from '@mantine/core';
import { Link } from 'react-router';

/**
 * The wizard's Cancel / Back / Next (or the finishing button), the same for a new job and for
 * editing saved parameters. Next and the finish submit the form, so every step validates first.
 */
export function WizardNav(props: {
  cancelTo: string;
  active: number;
  last: number;
  onBack: () => void;
  finishLabel: string;
  busy: boolean;
  /** The id of the message saying why the finish is not possible now (Submit is then disabled). */
  blockedBy?: string | null;
}) {
  const { cancelTo, active, last, onBack, finishLabel, busy, blockedBy } = props;
  return (
    <Group justify="space-between" mt="xl">
      <Button variant="default" component={Link} to={cancelTo}>
        Cancel
      </Button>
      <Group gap="sm">
        {active > 0 && (
          <Button variant="default" onClick={onBack}>
            Back
          </Button>
        )}
        {active < last ? (
          <Button type="submit">Next</Button>
        ) : (
          <Button type="submit" loading={busy} disabled={!!blockedBy} aria-describedby={blockedBy ?? undefined}>
            {finishLabel}
          </Button>
        )}
      </Group>
    </Group>
  );
}
