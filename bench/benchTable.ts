/** One row of the bench table: what was measured, the figure, and the target when there is one. */
export interface BenchRow {
  section: string;
  measure: string;
  value: string;
  target?: string;
  /** Whether the figure meets the target; undefined without a target. */
  meets?: boolean;
}

/** A plain text table, one row per line, columns padded to their widest cell. */
export function formatTable(rows: BenchRow[]): string {
  const cells = [
    ['section', 'measure', 'value', 'target', ''],
    ...rows.map((r) => [r.section, r.measure, r.value, r.target ?? '', r.meets === undefined ? '' : r.meets ? 'met' : 'MISSED']),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]): string =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
