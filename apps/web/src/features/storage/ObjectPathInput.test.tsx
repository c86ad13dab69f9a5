import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { StorageListing } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../test-utils';
import { ObjectPathInput } from './ObjectPathInput';
import { startLocation } from './StorageBrowserModal';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function Field({ initial = '' }: { initial?: string }) {
  const [value, setValue] = useState(initial);
  return <ObjectPathInput label="Code Directory" value={value} onChange={setValue} />;
}

const listing = (prefix: string, folders: string[], objects: string[] = []): StorageListing => ({
  bucket: 'demo',
  prefix,
  path: `obs://demo/${prefix}`,
  folders: folders.map((f) => ({ name: f, prefix: `${prefix}${f}/`, path: `obs://demo/${prefix}${f}/` })),
  objects: objects.map((o) => ({ name: o, key: `${prefix}${o}`, size: 10 })),
});

describe('ObjectPathInput', () => {
  it('browses buckets and folders and puts the chosen folder in the field', async () => {
    routeFetch({
      'GET /api/v1/storage/buckets': () => json({ items: [{ name: 'demo' }] }),
      'GET /api/v1/storage/buckets/demo/objects': ({ url }) => {
        const prefix = new URL(url, 'http://x').searchParams.get('prefix') ?? '';
        return json(prefix === '' ? listing('', ['code', 'data']) : listing(prefix, [], ['train.sh']));
      },
    });
    renderPage(<Field />);

    fireEvent.click(screen.getByRole('button', { name: 'Select Code Directory' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(await within(dialog).findByRole('button', { name: /^demo/ }));
    fireEvent.click(await within(dialog).findByRole('button', { name: /^code\// }));
    expect(await within(dialog).findByText('train.sh')).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Select this folder' }));

    await waitFor(() =>
      expect((screen.getByRole('textbox', { name: 'Code Directory' }) as HTMLInputElement).value).toBe('obs://demo/code/'),
    );
  });

  it('creates a folder where it is and opens it', async () => {
    const calls = routeFetch({
      'GET /api/v1/storage/buckets/demo/objects': ({ url }) => {
        const prefix = new URL(url, 'http://x').searchParams.get('prefix') ?? '';
        return json(listing(prefix, []));
      },
      'POST /api/v1/storage/buckets/demo/folders': ({ body }) => {
        const prefix = (body as { prefix: string }).prefix;
        return json({ name: 'run-1', prefix, path: `obs://demo/${prefix}` }, 201);
      },
    });
    renderPage(<Field initial="obs://demo/output/" />);

    fireEvent.click(screen.getByRole('button', { name: 'Select Code Directory' }));
    const dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText('obs://demo/output/')).toBeTruthy();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'New folder' }), { target: { value: 'run-1' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create folder' }));

    expect(await within(dialog).findByText('obs://demo/output/run-1/')).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ prefix: 'output/run-1/' });
  });

  it('refuses a folder name the store would not accept, before asking it', async () => {
    const calls = routeFetch({ 'GET /api/v1/storage/buckets/demo/objects': () => json(listing('', [])) });
    renderPage(<Field initial="obs://demo/" />);
    fireEvent.click(screen.getByRole('button', { name: 'Select Code Directory' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(await within(dialog).findByRole('textbox', { name: 'New folder' }), { target: { value: '..' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create folder' }));
    expect(await within(dialog).findByText(/prefix must be/)).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });
});

describe('startLocation', () => {
  it('opens at the folder the field names, else at the bucket list', () => {
    expect(startLocation('s3://demo/data/')).toEqual({ bucket: 'demo', prefix: 'data/' });
    expect(startLocation('obs://demo')).toEqual({ bucket: 'demo', prefix: '' });
    expect(startLocation('not a path')).toEqual({ bucket: null, prefix: '' });
  });
});
