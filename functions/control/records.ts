/**
 * The shapes stored in the control table (type-only). They live here, in the persistence layer,
 * because the repositories store and load them and the domain folders (`token/`, `datasets/`)
 * compute with them: a type two layers need lives in the lower one. The domain modules re-export
 * them next to their validation and logic.
 */

// Parameters (declared by a dashboard, moded by an embed, typed by the parameter policy)

export type ParameterType = 'string' | 'number' | 'boolean' | 'date' | 'dateRange' | 'stringList';

/** An ISO date range, inclusive: `from` and `to` are `YYYY-MM-DD` or full ISO date-times. */
export interface DateRange {
  readonly from: string;
  readonly to: string;
}

/** A typed parameter value after validation. */
export type ParamValue = string | number | boolean | DateRange | readonly string[];

/** `locked`: value only from the signed token. `editable`: from the viewer, validated. `disabled` (default): refused. */
export type ParameterMode = 'locked' | 'editable' | 'disabled';

/** A dashboard's declaration of one parameter and its constraints. */
export interface ParameterDefinition {
  readonly name: string;
  readonly type: ParameterType;
  readonly label?: string;
  /** For string/stringList/number: the only values accepted. */
  readonly allowedValues?: readonly (string | number)[];
  /** For number: numeric bounds; for date/dateRange: ISO date bounds. */
  readonly min?: number | string;
  readonly max?: number | string;
  /** For string/stringList items: maximum length (default 256). */
  readonly maxLength?: number;
  /** For stringList: maximum number of items (default 50). */
  readonly maxItems?: number;
  /** Used when neither the token nor the viewer gives a value. */
  readonly default?: ParamValue;
  /** A locked parameter with `required` and no value anywhere is refused with PARAM_MISSING. */
  readonly required?: boolean;
}

/** The effective, typed parameter set that the query compiler consumes. */
export type EffectiveParameters = Readonly<Record<string, ParamValue>>;

// Dataset schemas

export type ColumnType = 'string' | 'number' | 'boolean' | 'date';

export interface ColumnDefinition {
  readonly name: string;
  readonly type: ColumnType;
  /** A required column must have a value in every row. Key columns are always required. */
  readonly required?: boolean;
  readonly label?: string;
}

/** A secondary index over the data table's generic `gsi1` / `gsi2` (in declaration order). */
export interface SecondaryIndexDefinition {
  readonly partitionColumn: string;
  readonly sortColumn?: string;
}

export interface DatasetSchema {
  readonly columns: readonly ColumnDefinition[];
  readonly partitionColumn: string;
  readonly sortColumn?: string;
  readonly indexes?: readonly SecondaryIndexDefinition[];
}

/** A stored cell value. Dates are normalised ISO-8601 UTC strings (`YYYY-MM-DDTHH:mm:ss.sssZ`). */
export type CellValue = string | number | boolean;

// Widgets (a query over one dataset)

export type WidgetType = 'table' | 'number' | 'bar' | 'line';
export type FilterOp = 'eq' | 'in' | 'between' | 'gte' | 'lte' | 'begins_with';
export type MetricOp = 'count' | 'sum' | 'avg' | 'min' | 'max';
export type DateBucket = 'day' | 'week' | 'month';

export type FilterLiteral = string | number | boolean;
/** A reference to a dashboard parameter; the compiler substitutes its effective value. */
export interface ParamRef {
  readonly param: string;
}

/**
 * One filter. `eq`/`gte`/`lte`/`begins_with` take `value`; `in` takes `values`; `between` takes
 * `values: [from, to]` (inclusive). Any op may take `value: { param }` instead.
 */
export interface WidgetFilter {
  readonly column: string;
  readonly op: FilterOp;
  readonly value?: FilterLiteral | ParamRef;
  readonly values?: readonly FilterLiteral[];
}

export interface GroupBy {
  readonly column: string;
  /** Only for date columns: UTC day, ISO week (starting Monday) or month. */
  readonly bucket?: DateBucket;
}

export interface Metric {
  readonly op: MetricOp;
  /** Required except for `count` (which then counts rows). */
  readonly column?: string;
  /** Output name; defaults to `count` or `<op>_<column>`. */
  readonly as?: string;
}

export interface OrderBy {
  /** A group column, a metric's output name, or (for plain rows) a column. */
  readonly key: string;
  readonly direction?: 'asc' | 'desc';
}

export interface WidgetQuery {
  readonly filters?: readonly WidgetFilter[];
  readonly groupBy?: readonly GroupBy[];
  readonly metrics?: readonly Metric[];
  readonly orderBy?: readonly OrderBy[];
  readonly limit?: number;
  /** For plain-row (table) queries: the columns to return; all columns by default. */
  readonly columns?: readonly string[];
}

export interface Widget {
  readonly id: string;
  readonly type: WidgetType;
  readonly title: string;
  readonly datasetId: string;
  readonly query: WidgetQuery;
}

// Row-level security rules and mappings

/** Where a rule takes the viewer's allowed values from. */
export type RlsSource =
  /** `sub`, `cognito:groups`, or a custom attribute such as `custom:region`. */
  | { readonly kind: 'identity'; readonly claim: string }
  /** A parameter that the embed locks (only the signed token can set it). */
  | { readonly kind: 'lockedParam'; readonly param: string }
  /** A stored mapping: user or group → values or `*`. */
  | { readonly kind: 'mapping'; readonly mappingId: string };

export interface RlsRule {
  readonly column: string;
  readonly source: RlsSource;
}

export interface RlsMappingEntry {
  readonly principalType: 'user' | 'group';
  /** A Cognito `sub` (user) or a group name. */
  readonly principal: string;
  readonly values: readonly string[] | '*';
}

export interface RlsMapping {
  readonly id: string;
  readonly entries: readonly RlsMappingEntry[];
}

// Rollups (pre-aggregations of a dataset, stored beside its rows in the same version)

export type RollupGranularity = 'day' | 'hour';
export type RollupMeasureOp = 'count' | 'sum' | 'min' | 'max';

/** One pre-aggregated measure; `count` without a column counts rows. `avg` is served as sum / count. */
export interface RollupMeasure {
  readonly op: RollupMeasureOp;
  readonly column?: string;
}

/** A rollup as an admin declares it: group-by dimensions, an optional time bucket and measures. */
export interface RollupDefinition {
  readonly id: string;
  /** Columns kept exactly; the first one partitions the rollup's items. */
  readonly dimensions: readonly string[];
  readonly time?: { readonly column: string; readonly granularity: RollupGranularity };
  readonly measures: readonly RollupMeasure[];
}

/** The rollup items of one dataset version: where they are and how many there are. */
export interface RollupBuild {
  readonly version: string;
  /** Every value of the first dimension present in that version (null: rows without it). */
  readonly partitionValues: readonly (CellValue | null)[];
  /** The same partitions as keys after the version prefix (`R#<id>#g<generation>#<enc(value)>`), for cleanup. */
  readonly partitionKeys: readonly string[];
  readonly itemCount: number;
}

/**
 * A declared rollup on the dataset item. `generation` changes with every declaration and is part
 * of the items' keys, so items of an earlier declaration are never read as this one's; `build`
 * names the version the items were written for (readers use a rollup only when it is the
 * version they read).
 */
export interface StoredRollup extends RollupDefinition {
  readonly generation: number;
  readonly build?: RollupBuild;
}
