import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * The service's error names (the Lambda's `errorType`), as the README's "Errors" section lists them, and the one
 * Retry/Catch policy that both flows apply to every call of the service.
 */
export const ServiceErrors = {
  InvalidInvocation: 'InvalidInvocation',
  ConfigNotFound: 'ConfigNotFound',
  AccessDenied: 'AccessDenied',
  SecretNotFound: 'SecretNotFound',
  TemplateError: 'TemplateError',
  ProviderThrottled: 'ProviderThrottled',
  ProviderUnavailable: 'ProviderUnavailable',
  ProviderTimeout: 'ProviderTimeout',
  ProviderRejected: 'ProviderRejected',
  ProviderResponseInvalid: 'ProviderResponseInvalid',
  ResponseTooLarge: 'ResponseTooLarge',
} as const;

export const ALL_SERVICE_ERRORS: string[] = Object.values(ServiceErrors);

/** Transient provider failures: worth another try after a pause (the service already retried inside). */
export const TRANSIENT_PROVIDER_ERRORS = [
  ServiceErrors.ProviderThrottled,
  ServiceErrors.ProviderUnavailable,
  ServiceErrors.ProviderTimeout,
];

/** Lambda's own transient failures. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];

/** Permanent failures: retrying gives the same answer, so they go straight to the failure path. */
export const PERMANENT_ERRORS = [
  ServiceErrors.InvalidInvocation,
  ServiceErrors.ConfigNotFound,
  ServiceErrors.AccessDenied,
  ServiceErrors.TemplateError,
  ServiceErrors.ProviderRejected,
  ServiceErrors.ResponseTooLarge,
  ServiceErrors.SecretNotFound,
  ServiceErrors.ProviderResponseInvalid,
];

/** Where a caught error is kept in the state's data. */
export const ERROR_RESULT_PATH = '$.error';

/** Retry: throttles get more room than outages; all with exponential backoff and full jitter. */
export function addServiceRetries(task: sfn.TaskStateBase): void {
  task.addRetry({
    errors: [ServiceErrors.ProviderThrottled],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 4,
    maxDelay: Duration.seconds(30),
    jitterStrategy: sfn.JitterType.FULL,
  });
  task.addRetry({
    errors: [ServiceErrors.ProviderUnavailable, ServiceErrors.ProviderTimeout],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 3,
    maxDelay: Duration.seconds(20),
    jitterStrategy: sfn.JitterType.FULL,
  });
  task.addRetry({
    errors: LAMBDA_TRANSIENT_ERRORS,
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 5,
    maxDelay: Duration.seconds(20),
    jitterStrategy: sfn.JitterType.FULL,
  });
}

/**
 * Catch: the service's named errors (permanent ones, and transient ones whose retries ran out), then
 * anything else, each to `handler` with the error kept at `$.error` ({Error, Cause}).
 */
export function addServiceCatches(task: sfn.TaskStateBase, handler: sfn.IChainable): void {
  task.addCatch(handler, {
    errors: [...PERMANENT_ERRORS, ...TRANSIENT_PROVIDER_ERRORS],
    resultPath: ERROR_RESULT_PATH,
  });
  task.addCatch(handler, { errors: [sfn.Errors.ALL], resultPath: ERROR_RESULT_PATH });
}

/** Every field of the service's event, null when the caller leaves it out ("null means absent"). */
export const REQUEST_FIELDS = [
  'provider_config', 'fallbacks', 'agent_id', 'endpoint_id', 'evaluation_id',
  'messages', 'tools', 'temperature', 'max_tokens', 'top_p', 'stream', 'stop',
  'tool_choice', 'parallel_tool_calls', 'reasoning', 'response_format',
] as const;

/**
 * Three Pass states that give every field in `fields` a value (null when the caller left it out, which
 * the service reads as absent), so that the next state's `field.$` references never fail:
 *   `<prefix>KeepInput`        {input: <the state's input>}
 *   `<prefix>NullDefaults`     adds null_defaults: {field: null, ...} (a Pass `Result`: CDK drops null
 *                              values from `Parameters`)
 *   `<prefix>FillAbsentFields` {<into>: States.JsonMerge(null_defaults, input)}: the input wins
 */
export function fillAbsentFields(
  scope: Construct, prefix: string, fields: readonly string[], into: string,
): { start: sfn.Pass; end: sfn.Pass } {
  const start = new sfn.Pass(scope, `${prefix}KeepInput`, {
    parameters: { 'input.$': '$' },
  });
  const defaults = new sfn.Pass(scope, `${prefix}NullDefaults`, {
    comment: 'null for every field the caller may leave out: the service reads null as absent',
    result: sfn.Result.fromObject(Object.fromEntries(fields.map((f) => [f, null]))),
    resultPath: '$.null_defaults',
  });
  const end = new sfn.Pass(scope, `${prefix}FillAbsentFields`, {
    parameters: { [`${into}.$`]: 'States.JsonMerge($.null_defaults, $.input, false)' },
  });
  start.next(defaults).next(end);
  return { start, end };
}
