import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createMemoryRouter, MemoryRouter, Route, RouterProvider, Routes, type RouteObject } from 'react-router';
import { vi } from 'vitest';
import { theme } from './app/theme';

/** A page as the app mounts it (theme, query cache, router), at `url` matched by `path`. */
export function renderPage(ui: ReactElement, { url = '/', path = '*' }: { url?: string; path?: string } = {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <MantineProvider theme={theme}>
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route path={path} element={ui} />
            <Route path="*" element={<div data-testid="elsewhere" />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/**
 * Fakes the network at fetch: each request is answered by the first route whose method and path
 * prefix match (`GET /api/v1/resource-pools`), so the client, hooks and pages above are real.
 */
export function routeFetch(routes: Record<string, (req: { url: string; body: unknown }) => Response | Promise<Response>>) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const mock = vi.fn<typeof fetch>(async (input, init) => {
    const url = String(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, url, body });
    const key = Object.keys(routes)
      .filter((k) => {
        const [m, p] = k.split(' ');
        return m === method && p !== undefined && url.startsWith(p);
      })
      .sort((a, b) => b.length - a.length)[0];
    if (!key) return json({ error: 'not_found', message: `no fake for ${method} ${url}` }, 404);
    return routes[key]!({ url, body });
  });
  vi.stubGlobal('fetch', mock);
  return calls;
}

/**
 * Several routes as the app mounts them, for flows that move between pages (sign-in, the
 * session gate). `router.state.location` tells where the user ended up; `client` is the cache.
 */
export function renderRoutes(routes: RouteObject[], url = '/') {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createMemoryRouter(routes, { initialEntries: [url] });
  const view = render(
    <MantineProvider theme={theme}>
      <QueryClientProvider client={client}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>,
  );
  return { ...view, router, client };
}

/** Where the router is now, as path and query (`/sign-in?next=%2Fjobs`). */
export function here(router: { state: { location: { pathname: string; search: string } } }): string {
  return `${router.state.location.pathname}${router.state.location.search}`;
}

/** The headers of every request the faked fetch got for `method` and a URL starting with `prefix`. */
export function sentHeaders(method: string, prefix: string): Headers[] {
  return vi
    .mocked(globalThis.fetch)
    .mock.calls.filter(([input, init]) => (init?.method ?? 'GET').toUpperCase() === method && String(input).startsWith(prefix))
    .map(([, init]) => new Headers(init?.headers));
}
