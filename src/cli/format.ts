/** How the commands print figures: a value that was never measured (NaN) prints as n/a, never as a number. */

export function fixed(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function percent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : 'n/a';
}

export function signedPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%` : 'n/a';
}

/** Columns padded to their widest cell, with a rule under the header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A learning curve in one line, at most 60 cells (each the mean of its stretch), on a 0.4–1.0 accuracy scale. */
export function sparkline(values: readonly number[]): string {
  const width = Math.min(60, values.length);
  const cells: string[] = [];
  for (let c = 0; c < width; c++) {
    const stretch = values.slice(Math.floor((c * values.length) / width), Math.floor(((c + 1) * values.length) / width)).filter(Number.isFinite);
    if (stretch.length === 0) {
      cells.push(' ');
      continue;
    }
    const mean = stretch.reduce((a, b) => a + b, 0) / stretch.length;
    cells.push(BLOCKS[Math.round(((Math.min(1, Math.max(0.4, mean)) - 0.4) / 0.6) * (BLOCKS.length - 1))]!);
  }
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? '(nothing decided)' : `${cells.join('')}  first ${percent(finite[0]!)}, last ${percent(finite.at(-1)!)}`;
}
