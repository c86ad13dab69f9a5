import { Group, Pagination } from '@mantine/core';

export interface PagerProps {
  page: number;
  total: number;
  pageSize: number;
  onChange: (page: number) => void;
}

/** The one pager of the console's lists: nothing while everything fits on one page. */
export function Pager({ page, total, pageSize, onChange }: PagerProps) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  return (
    <Group justify="flex-end">
      <Pagination
        total={pages}
        value={Math.min(page, pages)}
        onChange={onChange}
        aria-label="Pages"
        getItemProps={(p) => ({ 'aria-label': `Page ${p}` })}
        getControlProps={(c) => ({ 'aria-label': `${c[0]!.toUpperCase()}${c.slice(1)} page` })}
      />
    </Group>
  );
}
