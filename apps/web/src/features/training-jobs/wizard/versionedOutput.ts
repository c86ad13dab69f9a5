/**
 * The Training Output Path a new version starts with: a folder of its own under the previous
 * one's, so submitting as prefilled never overwrites the model the earlier version wrote.
 * `…/out/` → `…/out/V002/`; a path that already ends in a version folder (`…/out/V001/`, as
 * this made for the earlier version) gets that folder swapped: `…/out/V002/`.
 */
export function versionedOutput(previous: string, version: string): string {
  const trimmed = previous.trim();
  if (trimmed === '') return trimmed;
  const base = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  const parent = /^(.*\/)V\d{3,}\/$/.exec(base)?.[1];
  return `${parent ?? base}${version}/`;
}
