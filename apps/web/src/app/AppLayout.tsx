import { Suspense } from 'react';
import { AppShell, Burger, Group, NavLink as MantineNavLink, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { NavLink, Outlet } from 'react-router';
import { LoadingState } from '../ui/states';

const LINKS = [
  { to: '/jobs', label: 'Training Jobs' },
  { to: '/job-parameters', label: 'Job Parameters' },
  { to: '/datasets', label: 'Data Management' },
  { to: '/images', label: 'Images' },
  { to: '/notification-topics', label: 'Notification Topics' },
  { to: '/budget', label: 'Budget' },
];

/** The frame every page shares: the sections on the left (behind a menu button when narrow), the page beside them. */
export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  return (
    <AppShell header={{ height: 48 }} navbar={{ width: 200, breakpoint: 'md', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header bg="dark.8">
        <Group h="100%" px="md" gap="sm" wrap="nowrap">
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
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Sections">
        {LINKS.map((l) => (
          <MantineNavLink key={l.to} component={NavLink} to={l.to} label={l.label} onClick={close} style={{ borderRadius: 4 }} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<LoadingState label="Loading page…" />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
