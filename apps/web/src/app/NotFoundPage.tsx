import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link, useLocation } from 'react-router';

/** Any address the console has no page for: said so, instead of a silent jump to the job list. */
export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <Stack component="section" aria-labelledby="not-found-heading" gap="sm" maw={640}>
      <Title order={1} size="h2" id="not-found-heading">
        Page not found
      </Title>
      <Text>
        There is no page at <code>{pathname}</code>. It may have moved, or the address may be mistyped.
      </Text>
      <Anchor component={Link} to="/jobs">
        Go to Training Jobs
      </Anchor>
    </Stack>
  );
}
