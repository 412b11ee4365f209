// What Grafana does to a panel's SQL before sending it to PostgreSQL, for the tests: template
// variables (multi-value ones as a quoted, comma-separated list; single ones raw) and the time macros.
export type VariableValues = Record<string, string | string[]>;

export interface TimeRange {
  from: Date;
  to: Date;
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

const INTERVAL_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

function intervalSeconds(text: string): number {
  const match = /^'?(\d+)([smhd])'?$/.exec(text.trim());
  if (!match) throw new Error(`unsupported interval ${text}`);
  return Number(match[1]) * INTERVAL_SECONDS[match[2]!]!;
}

export function interpolate(sql: string, values: VariableValues, range: TimeRange): string {
  const withMacros = sql
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, column: string) =>
        `${column} BETWEEN ${quote(range.from.toISOString())} AND ${quote(range.to.toISOString())}`,
    )
    .replace(/\$__timeGroupAlias\(([^,]+),([^)]+)\)/g, (_, column: string, interval: string) => {
      const s = intervalSeconds(interval);
      return `floor(extract(epoch from ${column})/${s})*${s} AS "time"`;
    });
  if (/\$__\w+/.test(withMacros)) throw new Error(`unsupported macro in ${sql}`);
  return withMacros.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for variable ${match} in ${sql}`);
    return Array.isArray(value) ? value.map(quote).join(',') : value;
  });
}
