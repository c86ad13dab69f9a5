import type { ReactNode } from 'react';
import { Box, Center, Paper, Stack, Text, Title } from '@mantine/core';

/** The frame of the pages outside the console (sign-in, setup): the name, one card in the middle. */
export function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Box mih="100vh" bg="gray.1">
      <Box bg="dark.8" px="md" py="sm">
        <Text fw={600} c="white">
          Training Console
        </Text>
      </Box>
      <Center px="md" py={48}>
        <Paper withBorder shadow="xs" p="xl" w="100%" maw={400} component="main">
          <Stack gap="md">
            <Title order={1} size="h3">
              {title}
            </Title>
            {children}
          </Stack>
        </Paper>
      </Center>
    </Box>
  );
}
