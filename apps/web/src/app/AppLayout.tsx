import { Suspense } from 'react';
import { AppShell, Burger, Button, Divider, Group, NavLink as MantineNavLink, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { NavLink, Outlet } from 'react-router';
import { LoadingState } from '../ui/states';
import { DocumentTitle } from './DocumentTitle';
import { useEndSession, useSignOut } from '../features/auth/api';
import { useCurrentSession } from '../features/auth/session';

const LINKS = [
  { to: '/jobs', label: 'Training Jobs' },
  { to: '/job-parameters', label: 'Job Parameters' },
  { to: '/datasets', label: 'Data Management' },
  { to: '/images', label: 'Images' },
  { to: '/notification-topics', label: 'Notification Topics' },
  { to: '/budget', label: 'Budget' },
];

const ACCOUNT_LINKS = [{ to: '/account', label: 'Account' }];

const ADMIN_LINKS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/audit-log', label: 'Audit log' },
];

/** The frame every page shares: the sections on the left (behind a menu button when narrow), the page beside them. */
export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  const { user } = useCurrentSession();
  const signOut = useSignOut();
  const endSession = useEndSession();
  const links = (list: { to: string; label: string }[]) =>
    list.map((l) => (
      <MantineNavLink key={l.to} component={NavLink} to={l.to} label={l.label} onClick={close} style={{ borderRadius: 4 }} />
    ));
  return (
    <AppShell header={{ height: 48 }} navbar={{ width: 200, breakpoint: 'md', collapsed: { mobile: !opened } }} padding="md">
      <DocumentTitle />
      {/* Keyboard users skip the header and the sections to the page itself. */}
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppShell.Header bg="dark.8">
        <Group h="100%" px="md" gap="sm" wrap="nowrap" justify="space-between">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="md"
              size="sm"
              color="white"
              aria-label={opened ? 'Close sections' : 'Open sections'}
            />
            <Text fw={600} c="white">
              Training Console
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text c="gray.3" size="sm" data-testid="signed-in-user" title={`Signed in as ${user.username} (${user.role})`}>
              {user.username}
            </Text>
            <Button
              size="compact-sm"
              variant="outline"
              color="gray.3"
              loading={signOut.isPending}
              onClick={() => signOut.mutate(undefined, { onSettled: () => endSession('/sign-in') })}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Sections">
        {links(LINKS)}
        <Divider my="xs" />
        {links(ACCOUNT_LINKS)}
        {user.role === 'admin' && links(ADMIN_LINKS)}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1} style={{ outline: 'none' }}>
        <Suspense fallback={<LoadingState label="Loading page…" />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
