import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ALL_SERVICE_ERRORS, ServiceErrors } from '../flows/error-policy';

export const METRIC_NAMESPACE = 'UnifiedLlmService';

/**
 * The service logs one JSON line per invocation (tracing-subscriber's JSON format):
 * {"level":"INFO","fields":{"message":"invocation","outcome":"ok"|"error","error_type":"...",
 *  "provider_id":"...","model_id":"...","latency_ms":123,"attempts":1},"target":"unified_llm_service"}
 */
export const InvocationLogPatterns = {
  all: '{ $.fields.message = "invocation" }',
  failed: '{ $.fields.message = "invocation" && $.fields.outcome = "error" }',
};

/** Errors at or above which an error type's alarm fires, per 5 minutes. Config and data errors: 1. */
export const ERROR_ALARM_THRESHOLDS: Record<string, number> = {
  [ServiceErrors.InvalidInvocation]: 10,
  [ServiceErrors.ConfigNotFound]: 1,
  [ServiceErrors.AccessDenied]: 1,
  [ServiceErrors.SecretNotFound]: 1,
  [ServiceErrors.TemplateError]: 1,
  [ServiceErrors.ProviderThrottled]: 5,
  [ServiceErrors.ProviderUnavailable]: 10,
  [ServiceErrors.ProviderTimeout]: 10,
  [ServiceErrors.ProviderRejected]: 5,
  [ServiceErrors.ProviderResponseInvalid]: 1,
  [ServiceErrors.ResponseTooLarge]: 1,
};

export interface ObservabilityProps {
  readonly serviceFunction: lambda.IFunction;
  readonly serviceLogGroup: logs.ILogGroup;
  readonly agentStateMachine: sfn.IStateMachine;
  readonly evaluationStateMachine: sfn.IStateMachine;
  /** p99 of the service's own latency_ms above which the latency alarm fires. */
  readonly p99LatencyThresholdMs?: number;
  /** Error share (percent of invocations) above which the error-rate alarm fires. */
  readonly errorRateThresholdPercent?: number;
  /** Subscribe this address to the alarm topic. */
  readonly alarmEmail?: string;
}

/** Metric filters on the service's invocation log lines, alarms on them, and one dashboard. */
export class Observability extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const logGroup = props.serviceLogGroup;

    // Metric filters.
    const filter = (fid: string, options: Omit<logs.MetricFilterProps, 'logGroup' | 'metricNamespace'>) =>
      new logs.MetricFilter(this, fid, { logGroup, metricNamespace: METRIC_NAMESPACE, ...options });
    filter('InvocationsFilter', {
      filterPattern: logs.FilterPattern.literal(InvocationLogPatterns.all),
      metricName: 'Invocations', metricValue: '1', unit: cloudwatch.Unit.COUNT,
    });
    filter('FailedInvocationsFilter', {
      filterPattern: logs.FilterPattern.literal(InvocationLogPatterns.failed),
      metricName: 'FailedInvocations', metricValue: '1', unit: cloudwatch.Unit.COUNT,
    });
    filter('ErrorsByTypeFilter', {
      filterPattern: logs.FilterPattern.literal(InvocationLogPatterns.failed),
      metricName: 'Errors', metricValue: '1', unit: cloudwatch.Unit.COUNT,
      dimensions: { ErrorType: '$.fields.error_type' },
    });
    filter('LatencyFilter', {
      filterPattern: logs.FilterPattern.literal(InvocationLogPatterns.all),
      metricName: 'LatencyMs', metricValue: '$.fields.latency_ms', unit: cloudwatch.Unit.MILLISECONDS,
    });
    filter('AttemptsFilter', {
      filterPattern: logs.FilterPattern.literal(InvocationLogPatterns.all),
      metricName: 'ProviderAttempts', metricValue: '$.fields.attempts', unit: cloudwatch.Unit.COUNT,
    });

    const metric = (metricName: string, statistic: string, dimensionsMap?: Record<string, string>) =>
      new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName, statistic, period, dimensionsMap });
    const invocations = metric('Invocations', 'Sum');
    const failed = metric('FailedInvocations', 'Sum');
    const errorsOf = (errorType: string) => metric('Errors', 'Sum', { ErrorType: errorType });
    const latency = (stat: string) => metric('LatencyMs', stat);

    // Alarms.
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'unified-llm-service alarms' });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const alarm = (aid: string, options: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, aid, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...options,
      });
      a.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      this.alarms.push(a);
      return a;
    };

    for (const errorType of ALL_SERVICE_ERRORS) {
      alarm(`${errorType}Alarm`, {
        alarmDescription: `unified-llm-service returned ${errorType}`,
        metric: errorsOf(errorType),
        threshold: ERROR_ALARM_THRESHOLDS[errorType],
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    alarm('ErrorRateAlarm', {
      alarmDescription: 'Share of failed invocations of unified-llm-service (percent)',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * failed / invocations, 0)',
        usingMetrics: { invocations, failed },
        period,
        label: 'Error rate (%)',
      }),
      threshold: props.errorRateThresholdPercent ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    alarm('LambdaThrottlesAlarm', {
      alarmDescription: 'The service Lambda was throttled (concurrency limit)',
      metric: props.serviceFunction.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('P99LatencyAlarm', {
      alarmDescription: 'p99 of the service\'s latency_ms (whole invocation, retries included)',
      metric: latency('p99'),
      threshold: props.p99LatencyThresholdMs ?? 20000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    alarm('AgentExecutionsFailedAlarm', {
      alarmDescription: 'Agent flow executions failed',
      metric: props.agentStateMachine.metricFailed({ period, statistic: 'Sum' }),
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('EvaluationExecutionsFailedAlarm', {
      alarmDescription: 'Evaluation runs failed (per-sample failures do not fail a run)',
      metric: props.evaluationStateMachine.metricFailed({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    // Dashboard.
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations and failures', width: 8,
        left: [invocations.with({ label: 'invocations' }), failed.with({ label: 'failed' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors by errorType', width: 8, stacked: true,
        left: ALL_SERVICE_ERRORS.map((e) => errorsOf(e).with({ label: e })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Latency (ms, service log)', width: 8,
        left: ['p50', 'p90', 'p99'].map((s) => latency(s).with({ label: s })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Throttles', width: 8,
        left: [
          errorsOf(ServiceErrors.ProviderThrottled).with({ label: 'provider throttled (after retries)' }),
          props.serviceFunction.metricThrottles({ period, statistic: 'Sum', label: 'Lambda throttles' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Provider attempts per invocation', width: 8,
        left: [metric('ProviderAttempts', 'Average').with({ label: 'average' }),
          metric('ProviderAttempts', 'Maximum').with({ label: 'max' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration (ms)', width: 8,
        left: ['p50', 'p99'].map((s) => props.serviceFunction.metricDuration({ period, statistic: s, label: s })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Step Functions executions', width: 12,
        left: [
          props.agentStateMachine.metricSucceeded({ period, label: 'agent succeeded' }),
          props.agentStateMachine.metricFailed({ period, label: 'agent failed' }),
          props.evaluationStateMachine.metricSucceeded({ period, label: 'evaluation succeeded' }),
          props.evaluationStateMachine.metricFailed({ period, label: 'evaluation failed' }),
        ],
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 12, alarms: this.alarms }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Recent failed invocations', width: 24,
        logGroupNames: [logGroup.logGroupName],
        queryLines: [
          'fields @timestamp, fields.error_type, fields.provider_id, fields.model_id, fields.latency_ms, fields.attempts',
          'filter fields.message = "invocation" and fields.outcome = "error"',
          'sort @timestamp desc',
          'limit 50',
        ],
      }),
    );
  }
}
