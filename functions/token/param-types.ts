/**
 * Parameter types shared by the token core (parameter policy) and the query compiler.
 * A parameter is declared by a dashboard; each embed sets its mode.
 */
export type {
  DateRange,
  EffectiveParameters,
  ParameterDefinition,
  ParameterMode,
  ParameterType,
  ParamValue,
} from '#control/records';
