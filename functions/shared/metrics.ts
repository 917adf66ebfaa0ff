/**
 * The metrics that alarms watch: a contract between the functions that emit them and the stack
 * that alarms on them. Both import these names from here, so a rename changes both or fails the
 * build; a test asserts the emitted EMF record carries exactly this name and dimension.
 */

/** Counted when a valid embed token is presented by someone it was not issued to (the pasted-URL attack). */
export const IDENTITY_MISMATCH_METRIC = 'IdentityMismatch';

/**
 * The one dimension every product metric carries: the emitting function's service name
 * (Powertools' default `service` dimension, set from `POWERTOOLS_SERVICE_NAME`).
 */
export const SERVICE_DIMENSION = 'service';

/** Namespace when the stack sets none (`POWERTOOLS_METRICS_NAMESPACE`); deployed stacks set `SecureEmbed/<stage>`. */
export const DEFAULT_METRICS_NAMESPACE = 'SecureEmbed';
