import { ALL_SERVICE_ERRORS } from '../lib/flows/error-policy';
import { definitionOf, resourceOf, statementsOfRole, synth, Synthesised } from './support/stack';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validator: (def: unknown, opts?: object) => { isValid: boolean; errors: unknown[] } = require('asl-validator');

const LEGACY_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:legacy-python-llm';

const EXPECTED_RETRY = [
  { ErrorEquals: ['ProviderThrottled'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' },
  { ErrorEquals: ['ProviderUnavailable', 'ProviderTimeout'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: 20, JitterStrategy: 'FULL' },
  {
    ErrorEquals: ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'],
    IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 20, JitterStrategy: 'FULL',
  },
];

/** The service's policy on a task: the retries above; every named error, then States.ALL, caught to `target`. */
function expectServicePolicy(task: any, target: string) {
  expect(task.Retry).toEqual(EXPECTED_RETRY);
  expect(task.Catch).toHaveLength(2);
  expect([...task.Catch[0].ErrorEquals].sort()).toEqual([...ALL_SERVICE_ERRORS].sort());
  expect(task.Catch[0]).toMatchObject({ ResultPath: '$.error', Next: target });
  expect(task.Catch[1]).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: target });
  // Permanent errors are never retried.
  const retried = task.Retry.flatMap((r: any) => r.ErrorEquals);
  for (const e of ['InvalidInvocation', 'ConfigNotFound', 'AccessDenied', 'TemplateError', 'ProviderRejected',
    'ResponseTooLarge', 'SecretNotFound', 'ProviderResponseInvalid']) {
    expect(retried).not.toContain(e);
  }
}

const SERVICE_ARN = (fnId: string) => `arn:aws:lambda:us-east-1:123456789012:function:${fnId}`;

describe('the agent state machine', () => {
  let s: Synthesised;
  let withLegacy: Synthesised;
  let fnId: string;
  beforeAll(() => {
    s = synth();
    withLegacy = synth({ legacyLambdaArn: LEGACY_ARN });
    [fnId] = resourceOf(s.template, 'AWS::Lambda::Function', 'ServiceFunction');
  });

  test('passes asl-validator, with and without a legacy Lambda', () => {
    for (const t of [s, withLegacy]) {
      const result = validator(definitionOf(t.template, 'AgentFlow'), { checkPaths: true, checkArn: true });
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    }
  });

  test('calls the service with agent_id or provider_config, nothing loaded by hand', () => {
    const def = definitionOf(s.template, 'AgentFlow');
    const tasks = Object.entries(def.States).filter(([, st]: any) => st.Type === 'Task');
    expect(tasks.map(([name]) => name)).toEqual(['CallRustLLM']);
    const call: any = def.States.CallRustLLM;
    expect(call.Resource).toBe(SERVICE_ARN(fnId));
    expect(call.Parameters).toMatchObject({
      'agent_id.$': '$.request.agent_id',
      'provider_config.$': '$.request.provider_config',
      'messages.$': '$.request.messages',
      'tools.$': '$.request.tools',
      'temperature.$': '$.request.temperature',
      'max_tokens.$': '$.request.max_tokens',
    });
    expect(JSON.stringify(def)).not.toContain('appsync');
    // Absent fields are null (the service reads null as absent), so the references never fail.
    expect(def.States.RequestNullDefaults.Result).toMatchObject({ agent_id: null, provider_config: null, tools: null });
    expect(def.States.RequestKeepInput.Parameters).toEqual({ 'input.$': '$' });
    expect(def.States.RequestFillAbsentFields.Parameters).toEqual({ 'request.$': 'States.JsonMerge($.null_defaults, $.input, false)' });
  });

  test('retries transient errors with backoff and jitter, catches the named errors to a Fail that keeps them', () => {
    const def = definitionOf(s.template, 'AgentFlow');
    expectServicePolicy(def.States.CallRustLLM, 'AgentCallFailed');
    expect(def.States.AgentCallFailed).toEqual(expect.objectContaining({
      Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause',
    }));
  });

  test('the use_rust_service flag routes to the Rust service or to the legacy Lambda', () => {
    const def = definitionOf(withLegacy.template, 'AgentFlow');
    expect(def.StartAt).toBe('UseRustService');
    const choice = def.States.UseRustService;
    expect(choice.Type).toBe('Choice');
    const flag = (value: boolean) => ({ And: [
      { Variable: '$.use_rust_service', IsPresent: true },
      { Variable: '$.use_rust_service', IsBoolean: true },
      { Variable: '$.use_rust_service', BooleanEquals: value },
    ] });
    expect(choice.Choices).toEqual([
      { ...flag(true), Next: 'RequestKeepInput' },
      { ...flag(false), Next: 'CallLegacyLLM' },
    ]);
    expect(choice.Default).toBe('CallLegacyLLM');
    expect(def.States.CallLegacyLLM.Resource).toBe(LEGACY_ARN);
    expect(def.States.CallLegacyLLM.Parameters).toBeUndefined();
    expect(def.States.CallLegacyLLM.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AgentCallFailed' }]);

    // Without a legacy Lambda, the default is the Rust service and an explicit false fails clearly.
    const plain = definitionOf(s.template, 'AgentFlow');
    expect(plain.States.UseRustService.Default).toBe('RequestKeepInput');
    expect(plain.States.UseRustService.Choices[1].Next).toBe('LegacyServiceNotConfigured');
    expect(plain.States.LegacyServiceNotConfigured).toMatchObject({ Type: 'Fail', Error: 'InvalidInvocation' });
  });

  test('its role may invoke only the service (and the legacy Lambda when given)', () => {
    const [roleId] = resourceOf(withLegacy.template, 'AWS::IAM::Role', 'AgentFlowStateMachineRole');
    const statements = statementsOfRole(withLegacy.template, roleId);
    expect(statements.map((st) => st.Action)).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunction']);
    expect(JSON.stringify(statements)).toContain(LEGACY_ARN);
    expect(JSON.stringify(statements)).not.toMatch(/"\*"/);
  });
});

describe('the evaluation state machine', () => {
  let s: Synthesised;
  let def: any;
  beforeAll(() => {
    s = synth();
    def = definitionOf(s.template, 'EvaluationFlow');
  });

  test('passes asl-validator', () => {
    const result = validator(def, { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('inline samples: a Map with MaxConcurrency 10 and the service policy on each sample', () => {
    const map = def.States.EvaluateSamples;
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.samples', MaxConcurrency: 10, ResultPath: '$.results' });
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(map.ItemSelector).toEqual({ 'index.$': '$$.Map.Item.Index', 'sample.$': '$$.Map.Item.Value', 'call.$': '$.call' });
    const call = map.ItemProcessor.States.CallLLMForSample;
    expectServicePolicy(call, 'RecordSampleFailure');
    expect(call.Parameters.messages).toEqual([{ role: 'user', 'content.$': '$.sample.input' }]);
    expect(call.Parameters['provider_config.$']).toBe('$.call.provider_config');
    expect(call.Parameters['evaluation_id.$']).toBe('$.call.evaluation_id');
    // A failure is a record, not the end of the run.
    expect(map.ItemProcessor.States.RecordSampleFailure).toMatchObject({
      Type: 'Pass', End: true,
      Parameters: { 'index.$': '$.index', status: 'error', 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' },
    });
    expect(map.Catch).toBeUndefined();
  });

  test('JSON Lines samples in S3: a Distributed Map writing results to S3, with a tolerated failure percentage', () => {
    const [bucketId] = resourceOf(s.template, 'AWS::S3::Bucket', 'EvaluationFlowBucket');
    const map = def.States.EvaluateSamplesFromS3;
    expect(map).toMatchObject({
      Type: 'Map', MaxConcurrency: 10, ToleratedFailurePercentage: 10,
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: bucketId.toLowerCase(), 'Key.$': '$.samples_key' },
      },
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: bucketId.toLowerCase(), Prefix: 'results' },
        WriterConfig: { OutputType: 'JSONL', Transformation: 'COMPACT' },
      },
    });
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expectServicePolicy(map.ItemProcessor.States.S3CallLLMForSample, 'S3RecordSampleFailure');
    expect(def.States.SamplesSource.Choices).toEqual([
      { Variable: '$.samples_key', IsString: true, Next: 'EvaluateSamplesFromS3' },
      { Variable: '$.samples', IsNull: true, Next: 'NoSamples' },
    ]);
    expect(def.States.SamplesSource.Default).toBe('EvaluateSamples');
  });

  test('its role: the service, its own bucket, and its own Distributed Map runs', () => {
    const [roleId] = resourceOf(s.template, 'AWS::IAM::Role', 'EvaluationFlowStateMachineRole');
    const [bucketId] = resourceOf(s.template, 'AWS::S3::Bucket', 'EvaluationFlowBucket');
    const [fnId] = resourceOf(s.template, 'AWS::Lambda::Function', 'ServiceFunction');
    const statements = statementsOfRole(s.template, roleId);
    const actions = statements.flatMap((st) => [].concat(st.Action)).sort();
    expect(actions).toEqual([
      'lambda:InvokeFunction', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObject', 's3:ListMultipartUploadParts',
      's3:PutObject', 'states:DescribeExecution', 'states:RedriveExecution', 'states:StartExecution', 'states:StopExecution',
    ]);
    for (const st of statements) {
      const text = JSON.stringify(st.Resource);
      expect(text).not.toBe('"*"');
      const acts: string[] = [].concat(st.Action);
      if (acts.some((a) => a.startsWith('s3:'))) expect(text).toContain(bucketId);
      if (acts.includes('lambda:InvokeFunction')) expect(text).toContain(fnId);
    }
  });
});
