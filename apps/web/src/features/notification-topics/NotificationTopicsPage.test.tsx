import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { NotificationDelivery, NotificationTopic } from '@tc/contracts';
import { renderPage as renderAt } from '../../test-utils';
import { NotificationTopicsPage } from './NotificationTopicsPage';

const topic: NotificationTopic = {
  name: 'ops',
  description: 'on-call',
  subscriptions: [{ id: '1', url: 'https://hooks.example.com/a', createdAt: '2025-11-28T10:00:00.000Z' }],
  createdAt: '2025-11-28T10:00:00.000Z',
  secretRotatedAt: '2025-11-28T10:00:00.000Z',
};

const delivery: NotificationDelivery = {
  id: '7',
  messageId: 'm-1',
  event: 'OnJobFailed',
  job: { name: 'linreg-demo', version: 'V001' },
  url: 'https://hooks.example.com/a',
  state: 'delivered',
  attempts: [
    { attempt: 1, at: '2025-11-28T10:00:00.000Z', httpStatus: 500, error: 'HTTP 500', durationMs: 12 },
    { attempt: 2, at: '2025-11-28T10:00:10.000Z', httpStatus: 200, error: null, durationMs: 9 },
  ],
  nextAttemptAt: null,
  createdAt: '2025-11-28T10:00:00.000Z',
};

type Call = { method: string; url: string; body: unknown };

function fakeApi(handle: (call: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn<typeof fetch>(async (input, init) => {
      const call = { method: init?.method ?? 'GET', url: String(input), body: init?.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(call);
      const r = handle(call);
      return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status });
    }),
  );
  return calls;
}

const renderPage = () => renderAt(<NotificationTopicsPage />);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('NotificationTopicsPage', () => {
  it('creates a topic and shows its secret once, until dismissed', async () => {
    let items: NotificationTopic[] = [];
    const calls = fakeApi((c) => {
      if (c.method === 'POST') {
        items = [topic];
        return { status: 201, body: { ...topic, secret: 'tcwh_s3cret' } };
      }
      return { status: 200, body: { items, total: items.length } };
    });
    renderPage();
    const form = screen.getByRole('form', { name: 'Create topic' });
    fireEvent.change(within(form).getByRole('textbox', { name: 'Topic name' }), { target: { value: 'ops' } });
    fireEvent.change(within(form).getByRole('textbox', { name: 'Webhook URL (optional)' }), {
      target: { value: 'https://hooks.example.com/a' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Create topic' }));

    // Shown once, as information: not in an error-coloured alert.
    const secret = await screen.findByRole('status', { name: 'Signing secret of ops' });
    expect(secret.textContent).toContain('tcwh_s3cret');
    expect(secret.getAttribute('style') ?? '').not.toContain('red');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'ops', subscriptions: [{ url: 'https://hooks.example.com/a' }] });
    expect(await screen.findByRole('heading', { name: 'ops' })).toBeTruthy();
    fireEvent.click(within(secret).getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByText('tcwh_s3cret')).toBeNull();
  });

  it('refuses a bad webhook URL before sending, naming the field', async () => {
    const calls = fakeApi(() => ({ status: 200, body: { items: [topic], total: 1 } }));
    renderPage();
    const add = await screen.findByRole('form', { name: 'Add a subscription to ops' });
    const url = within(add).getByRole('textbox', { name: 'Webhook URL' });
    fireEvent.change(url, { target: { value: 'ftp://example.com/' } });
    fireEvent.submit(add);
    // The contract's message, on the field it names.
    expect(await within(add).findByText('URL must start with http:// or https://')).toBeTruthy();
    expect(url.getAttribute('aria-invalid')).toBe('true');
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('removes a subscription and shows deliveries with every attempt', async () => {
    const calls = fakeApi((c) => {
      if (c.method === 'DELETE') return { status: 204 };
      if (c.url.includes('/deliveries')) return { status: 200, body: { items: [delivery], total: 1 } };
      return { status: 200, body: { items: [topic], total: 1 } };
    });
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Remove https://hooks.example.com/a from ops' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Deliveries' }));
    const table = await screen.findByRole('table', { name: 'Deliveries of ops' });
    expect(table.textContent).toContain('HTTP 500');
    expect(table.textContent).toContain('HTTP 200');
    expect(calls.find((c) => c.method === 'DELETE')?.url).toBe('/api/v1/notification-topics/ops/subscriptions/1');
  });

  it('rotates the secret only after a confirmation, and shows the new one once', async () => {
    const calls = fakeApi((c) =>
      c.method === 'POST'
        ? { status: 200, body: { secret: 'tcwh_new', secretRotatedAt: topic.createdAt } }
        : { status: 200, body: { items: [topic], total: 1 } },
    );
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Rotate the secret of ops' }));
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Rotate now' }));
    expect((await screen.findByRole('status', { name: 'Signing secret of ops' })).textContent).toContain('tcwh_new');
    expect(calls.find((c) => c.method === 'POST')?.url).toBe('/api/v1/notification-topics/ops/secret');
  });
});
