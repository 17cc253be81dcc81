import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { addServiceCatches, addServiceRetries, ERROR_RESULT_PATH, fillAbsentFields } from './error-policy';

export interface EvaluationFlowProps {
  readonly serviceFunction: lambda.IFunction;
  /** Samples evaluated at once (both variants): the provider's rate limit sets it. */
  readonly maxConcurrency?: number;
  /** Distributed variant: the share of samples whose child execution may fail before the run fails. */
  readonly toleratedFailurePercentage?: number;
  /** Where JSONL samples are read (`samples/`) and results written (`results/`); a new bucket otherwise. */
  readonly bucket?: s3.IBucket;
  readonly timeout?: Duration;
}

/** The call settings an evaluation applies to every sample (absent ones are null). */
export const EVALUATION_CALL_FIELDS = [
  'provider_config', 'endpoint_id', 'agent_id', 'evaluation_id',
  'temperature', 'max_tokens', 'top_p', 'stop', 'response_format', 'reasoning',
] as const;
const RUN_FIELDS = [...EVALUATION_CALL_FIELDS, 'samples', 'samples_key'];

export const RESULTS_PREFIX = 'results';

/**
 * An evaluation run: one LLM call per sample, each with the service's Retry/Catch policy; a sample that
 * fails is recorded as `{index, status: "error", error, cause}` and does not fail the run.
 *
 * Input: the call settings (`provider_config` inline or `endpoint_id` by reference, `evaluation_id`,
 * `temperature`, `max_tokens`, ...) and either
 *   - `samples`: `[{input: "..."}, ...]` in the input: an inline Map (MaxConcurrency 10) whose output is
 *     `{evaluation_id, sample_count, results: [{index, status, response | error, cause}]}`; or
 *   - `samples_key`: a JSON Lines object in the evaluation bucket, one sample a line, for sets larger
 *     than a state's 256 KiB payload: a Distributed Map that writes every result to
 *     `s3://<bucket>/results/<map run id>/` and outputs `{evaluation_id, map_run}`.
 */
export class EvaluationFlow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: EvaluationFlowProps) {
    super(scope, id);
    // Render the Distributed Map's ResultWriter (with WriterConfig) and grant its S3 writes.
    this.node.setContext('@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2', true);
    const maxConcurrency = props.maxConcurrency ?? 10;

    this.bucket = props.bucket ?? new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ prefix: `${RESULTS_PREFIX}/`, expiration: Duration.days(90) }],
    });

    // 1. Fill absent settings with null, then keep only what each sample's call needs.
    const prepare = fillAbsentFields(this, 'Settings', RUN_FIELDS, 'run');
    const select = new sfn.Pass(this, 'SelectCallSettings', {
      parameters: {
        'call': Object.fromEntries(EVALUATION_CALL_FIELDS.map((f) => [`${f}.$`, `$.run.${f}`])),
        'evaluation_id.$': '$.run.evaluation_id',
        'samples.$': '$.run.samples',
        'samples_key.$': '$.run.samples_key',
      },
    });

    // Each sample runs with {index, sample, call}.
    const itemSelector = {
      'index.$': '$$.Map.Item.Index',
      'sample.$': '$$.Map.Item.Value',
      'call.$': '$.call',
    };

    // 2a. Inline samples.
    const inlineMap = new sfn.Map(this, 'EvaluateSamples', {
      comment: 'One LLM call per sample; failures are recorded per sample',
      itemsPath: '$.samples',
      itemSelector,
      maxConcurrency,
      resultPath: '$.results',
    });
    inlineMap.itemProcessor(this.sampleBody(props.serviceFunction, ''));
    const inlineOutput = new sfn.Pass(this, 'EvaluationResults', {
      parameters: {
        'evaluation_id.$': '$.evaluation_id',
        'sample_count.$': 'States.ArrayLength($.results)',
        'results.$': '$.results',
      },
    });

    // 2b. JSON Lines samples in S3, results to S3.
    const distributedMap = new sfn.DistributedMap(this, 'EvaluateSamplesFromS3', {
      comment: 'Large evaluation sets: samples from JSON Lines in S3, results written to S3',
      itemReader: new sfn.S3JsonLItemReader({
        bucket: this.bucket,
        key: sfn.JsonPath.stringAt('$.samples_key'),
      }),
      itemSelector,
      maxConcurrency,
      toleratedFailurePercentage: props.toleratedFailurePercentage ?? 10,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultWriterV2: new sfn.ResultWriterV2({
        bucket: this.bucket,
        prefix: RESULTS_PREFIX,
        writerConfig: new sfn.WriterConfig({
          outputType: sfn.OutputType.JSONL,
          transformation: sfn.Transformation.COMPACT,
        }),
      }),
      resultPath: '$.map_run',
    });
    distributedMap.itemProcessor(this.sampleBody(props.serviceFunction, 'S3'));
    const distributedOutput = new sfn.Pass(this, 'EvaluationResultsInS3', {
      parameters: { 'evaluation_id.$': '$.evaluation_id', 'map_run.$': '$.map_run' },
    });

    const noSamples = new sfn.Fail(this, 'NoSamples', {
      error: 'InvalidInvocation',
      cause: 'an evaluation needs samples (an array) or samples_key (a JSON Lines object in the evaluation bucket)',
    });
    const source = new sfn.Choice(this, 'SamplesSource')
      .when(sfn.Condition.isString('$.samples_key'), distributedMap.next(distributedOutput))
      // (IsNull true rather than IsNull false: aws-local-stepfunctions 3.0 reads `IsNull: false` as never.)
      .when(sfn.Condition.isNull('$.samples'), noSamples)
      .otherwise(inlineMap.next(inlineOutput));
    prepare.end.next(select).next(source);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'AI evaluation: one LLM call per sample through unified-llm-service',
      definitionBody: sfn.DefinitionBody.fromChainable(prepare.start),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(12),
    });
  }

  /** One sample: a call of the service, and a record of its result or of its error. */
  private sampleBody(fn: lambda.IFunction, prefix: string): sfn.IChainable {
    const name = (n: string) => `${prefix}${n}`;
    const recordFailure = new sfn.Pass(this, name('RecordSampleFailure'), {
      parameters: {
        'index.$': '$.index',
        'status': 'error',
        'error.$': `${ERROR_RESULT_PATH}.Error`,
        'cause.$': `${ERROR_RESULT_PATH}.Cause`,
      },
    });
    const recordInvalid = new sfn.Pass(this, name('RecordInvalidSample'), {
      parameters: {
        'index.$': '$.index',
        'status': 'error',
        'error': 'InvalidInvocation',
        'cause': 'the sample has no "input"',
      },
    });
    const call = new tasks.LambdaInvoke(this, name('CallLLMForSample'), {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({
        ...Object.fromEntries(EVALUATION_CALL_FIELDS.map((f) => [f, sfn.JsonPath.objectAt(`$.call.${f}`)])),
        messages: [{ role: 'user', content: sfn.JsonPath.objectAt('$.sample.input') }],
      }),
      resultPath: '$.response',
    });
    addServiceRetries(call);
    addServiceCatches(call, recordFailure);
    const recordResult = new sfn.Pass(this, name('RecordSampleResult'), {
      parameters: { 'index.$': '$.index', 'status': 'ok', 'response.$': '$.response' },
    });
    return new sfn.Choice(this, name('SampleHasInput'))
      .when(sfn.Condition.isPresent('$.sample.input'), call.next(recordResult))
      .otherwise(recordInvalid);
  }
}
