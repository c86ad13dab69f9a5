import { TextInput } from '@mantine/core';

/**
 * The lists' name search: the same label, limit (the API's 64) and width everywhere, and a new
 * search goes back to the first page.
 */
export function SearchByName(props: { value: string; onChange: (value: string) => void; onPageReset: () => void }) {
  return (
    <TextInput
      label="Search by name"
      type="search"
      value={props.value}
      maxLength={64}
      onChange={(e) => {
        props.onChange(e.currentTarget.value);
        props.onPageReset();
      }}
      w={260}
      maw="100%"
    />
  );
}
