/**
 * Parameter types shared by the token core (parameter policy) and the query compiler.
 * A parameter is declared by a dashboard; each embed sets its mode.
 */
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
