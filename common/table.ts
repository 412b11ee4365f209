/** Aligned text tables for people (the CLI's and the run summary's). */

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Renders rows under headers with a rule; `footer` rows come after a second rule. */
export function renderTable(columns: Column[], rows: string[][], footer: string[][] = []): string {
  const widths = columns.map((column, c) =>
    Math.max(column.header.length, ...[...rows, ...footer].map((row) => row[c]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (columns[c].align === 'left' ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const parts = [line(columns.map((c) => c.header)), rule, ...rows.map(line)];
  if (footer.length > 0) parts.push(rule, ...footer.map(line));
  return `${parts.join('\n')}\n`;
}
