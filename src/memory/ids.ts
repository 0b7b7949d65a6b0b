/** UTF-16 code-unit order of pattern ids: the same on every machine, unlike a locale's collation, so tie-breaks are reproducible. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
