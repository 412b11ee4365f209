// Raw-SQL queries for Grafana's PostgreSQL data source. The foundation SDK has no PostgreSQL query
// type, so this builder emits the target Grafana stores for it: {refId, datasource, rawSql, format,
// rawQuery: true}. It also remembers the columns the panel maps, which the tests check against the
// real database; they are not part of the target.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** Grafana's plugin id of the built-in PostgreSQL data source. */
export const POSTGRES_DATASOURCE_TYPE = 'grafana-postgresql-datasource';
/** Every panel and variable reads the data source chosen by the `datasource` variable. */
export const DATASOURCE_VARIABLE = 'datasource';
export const datasource: DataSourceRef = {
  type: POSTGRES_DATASOURCE_TYPE,
  uid: `\${${DATASOURCE_VARIABLE}}`,
};

/** `table` for tables, stats and xy charts; `time_series` for panels with a time axis. */
export type SqlFormat = 'table' | 'time_series';

export interface SqlTarget extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  rawSql: string;
  format: SqlFormat;
  rawQuery: true;
}

export class SqlQueryBuilder implements Builder<Dataquery> {
  constructor(
    readonly refId: string,
    readonly rawSql: string,
    /** The result columns the panel's field mappings and overrides refer to. */
    readonly columns: readonly string[],
    readonly format: SqlFormat = 'table',
  ) {}

  build(): SqlTarget {
    return {
      refId: this.refId,
      datasource,
      rawSql: this.rawSql,
      format: this.format,
      rawQuery: true,
      _implementsDataqueryVariant() {},
    };
  }
}

/** Collects a dashboard's queries as its panels are built, so the tests can run each one. */
export class QuerySet {
  readonly all: SqlQueryBuilder[] = [];

  sql(rawSql: string, columns: readonly string[], format: SqlFormat = 'table', refId = 'A'): SqlQueryBuilder {
    const query = new SqlQueryBuilder(refId, rawSql.trim().replace(/\s+/g, ' '), columns, format);
    this.all.push(query);
    return query;
  }
}
