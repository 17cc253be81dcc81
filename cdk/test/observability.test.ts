import { ALL_SERVICE_ERRORS } from '../lib/flows/error-policy';
import { InvocationLogPatterns, METRIC_NAMESPACE } from '../lib/observability/observability';
import { resourceOf, synth, Synthesised } from './support/stack';
import { matchesFilterPattern } from './support/filter-pattern';

// Lines shaped as the service logs them (tracing-subscriber JSON), one success and one failure.
const OK_LINE = {
  timestamp: '2026-11-25T12:00:00.000000Z', level: 'INFO',
  fields: { message: 'invocation', outcome: 'ok', provider_id: 'openai', model_id: 'gpt-4o', latency_ms: 123, attempts: 1 },
  target: 'unified_llm_service',
};
const ERROR_LINE = {
  timestamp: '2026-11-25T12:00:01.000000Z', level: 'INFO',
  fields: {
    message: 'invocation', outcome: 'error', error_type: 'ProviderThrottled', provider_id: 'openai',
    model_id: 'gpt-4o', latency_ms: 4012, attempts: 4,
  },
  target: 'unified_llm_service',
};
const OTHER_LINE = { level: 'INFO', fields: { message: 'secret cache miss' }, target: 'unified_llm_service' };

describe('observability', () => {
  let s: Synthesised;
  let filters: any[];
  let alarms: any[];
  beforeAll(() => {
    s = synth();
    filters = Object.values(s.template.findResources('AWS::Logs::MetricFilter')).map((r: any) => r.Properties);
    alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map((r: any) => r.Properties);
  });

  test('the filter patterns select the invocation lines the service logs, and only those', () => {
    expect(matchesFilterPattern(InvocationLogPatterns.all, OK_LINE)).toBe(true);
    expect(matchesFilterPattern(InvocationLogPatterns.all, ERROR_LINE)).toBe(true);
    expect(matchesFilterPattern(InvocationLogPatterns.all, OTHER_LINE)).toBe(false);
    expect(matchesFilterPattern(InvocationLogPatterns.failed, OK_LINE)).toBe(false);
    expect(matchesFilterPattern(InvocationLogPatterns.failed, ERROR_LINE)).toBe(true);
  });

  test('metric filters on the service log group: invocations, failures, errors by errorType, latency, attempts', () => {
    const [logGroupId] = resourceOf(s.template, 'AWS::Logs::LogGroup', 'ServiceLogGroup');
    const byMetric = Object.fromEntries(filters.map((f) => [f.MetricTransformations[0].MetricName, f]));
    expect(Object.keys(byMetric).sort()).toEqual(['Errors', 'FailedInvocations', 'Invocations', 'LatencyMs', 'ProviderAttempts']);
    for (const f of filters) {
      expect(f.LogGroupName).toEqual({ Ref: logGroupId });
      expect(f.MetricTransformations[0].MetricNamespace).toBe(METRIC_NAMESPACE);
    }
    expect(byMetric.Invocations.FilterPattern).toBe('{ $.fields.message = "invocation" }');
    expect(byMetric.FailedInvocations.FilterPattern).toBe('{ $.fields.message = "invocation" && $.fields.outcome = "error" }');
    expect(byMetric.Errors).toMatchObject({
      FilterPattern: '{ $.fields.message = "invocation" && $.fields.outcome = "error" }',
      MetricTransformations: [{ MetricValue: '1', Dimensions: [{ Key: 'ErrorType', Value: '$.fields.error_type' }] }],
    });
    expect(byMetric.LatencyMs.MetricTransformations[0]).toMatchObject({ MetricValue: '$.fields.latency_ms', Unit: 'Milliseconds' });
    expect(byMetric.ProviderAttempts.MetricTransformations[0].MetricValue).toBe('$.fields.attempts');
  });

  test('one alarm per errorType, on the Errors metric with that dimension', () => {
    for (const errorType of ALL_SERVICE_ERRORS) {
      const matching = alarms.filter((a) => a.MetricName === 'Errors'
        && JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'ErrorType', Value: errorType }]));
      expect(matching).toHaveLength(1);
      expect(matching[0]).toMatchObject({
        Namespace: METRIC_NAMESPACE, Statistic: 'Sum', Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
      });
      expect(matching[0].Threshold).toBeGreaterThanOrEqual(1);
    }
  });

  test('throttles, p99 latency, error rate and failed executions are alarmed; every alarm notifies the topic', () => {
    const [topicId] = resourceOf(s.template, 'AWS::SNS::Topic', 'ObservabilityAlarmTopic');
    const [fnId] = resourceOf(s.template, 'AWS::Lambda::Function', 'ServiceFunction');
    expect(alarms).toHaveLength(ALL_SERVICE_ERRORS.length + 5);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: topicId }]);

    const p99 = alarms.filter((a) => a.MetricName === 'LatencyMs');
    expect(p99).toHaveLength(1);
    expect(p99[0]).toMatchObject({ ExtendedStatistic: 'p99', Namespace: METRIC_NAMESPACE, Threshold: 20000 });

    const throttles = alarms.filter((a) => a.MetricName === 'Throttles');
    expect(throttles).toHaveLength(1);
    expect(throttles[0]).toMatchObject({ Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }] });

    const rate = alarms.filter((a) => a.Metrics);
    expect(rate).toHaveLength(1);
    expect(rate[0].Metrics.find((m: any) => m.Expression).Expression).toBe('IF(invocations > 0, 100 * failed / invocations, 0)');

    const executions = alarms.filter((a) => a.MetricName === 'ExecutionsFailed');
    expect(executions).toHaveLength(2);
  });

  test('a dashboard shows errors by errorType, throttles, latency percentiles and the executions', () => {
    const [, dashboard] = resourceOf(s.template, 'AWS::CloudWatch::Dashboard', 'ObservabilityDashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const title of ['Errors by errorType', 'Throttles', 'Latency (ms, service log)', 'Step Functions executions', 'Recent failed invocations']) {
      expect(body).toContain(title);
    }
    for (const e of ALL_SERVICE_ERRORS) expect(body).toContain(`\\"ErrorType\\",\\"${e}\\"`);
    expect(body).toContain('p99');
  });
});
