/**
 * The by-reference form, end to end on this machine: DynamoDB tables created as the stack defines them
 * (keys and the byProviderId index, from the synthesised nested stacks) in a local moto server,
 * ProviderTemplate seeded by scripts/seed-templates.ts from templates/providers/openai.json (its baseUrl
 * pointed at the stand-in provider), an EndpointConfiguration and an AgentModelAssignment as AppSync
 * would store them; the agent and evaluation state machines run locally with the service CLI reading
 * those tables through the environment variables the stack sets.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { DEFAULT_TEMPLATES_DIR, seed } from '../scripts/seed-templates';
import { definitionOf, resourceOf, synth } from './support/stack';
import { requireServiceBinary, ServiceCli } from './support/service-cli';
import { StandInProvider } from './support/stand-in-provider';
import { Moto } from './support/moto';

const MODELS = ['ProviderTemplate', 'EndpointConfiguration', 'AgentModelAssignment'] as const;
const TABLES = { ProviderTemplate: 'ProviderTemplate-local', EndpointConfiguration: 'EndpointConfiguration-local', AgentModelAssignment: 'AgentModelAssignment-local' };
const AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };

const provider = new StandInProvider();
const moto = new Moto();
let cli: ServiceCli;
let agentDefinition: any;
let evaluationDefinition: any;
let serviceEnv: Record<string, string>;

function run(definition: any, input: any) {
  const machine = new StateMachine(JSON.parse(JSON.stringify(definition)), { validationOptions: { checkPaths: true, checkArn: true } });
  return machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: { CallRustLLM: cli.handler, CallLLMForSample: cli.handler },
      retryIntervalOverrides: { CallRustLLM: 0, CallLLMForSample: 0 },
    },
  }).result;
}

beforeAll(async () => {
  if (Number(process.versions.node.split('.')[0]) < 22) throw new Error('needs Node >= 22: run `npm test`');
  requireServiceBinary();
  await Promise.all([provider.start(), moto.start()]);

  const { stack, template } = synth();
  agentDefinition = definitionOf(template, 'AgentFlow');
  evaluationDefinition = definitionOf(template, 'EvaluationFlow');
  const [, fn] = resourceOf(template, 'AWS::Lambda::Function', 'ServiceFunction');
  const stackEnv = fn.Properties.Environment.Variables;

  // The tables, keyed and indexed as the synthesised nested stacks define them.
  const client = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  for (const model of MODELS) {
    const [, table] = Object.entries(Template.fromStack(stack.data.api.resources.nestedStacks[model])
      .findResources('AWS::DynamoDB::Table'))[0] as [string, any];
    const p = table.Properties;
    await client.send(new CreateTableCommand({
      TableName: TABLES[model],
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((g: any) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })),
    }));
  }

  // ProviderTemplate through the seed script, from the shipped OpenAI template.
  const shipped = JSON.parse(fs.readFileSync(path.join(DEFAULT_TEMPLATES_DIR, 'openai.json'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'templates-'));
  fs.writeFileSync(path.join(dir, 'openai.json'), JSON.stringify({ ...shipped, baseUrl: `http://127.0.0.1:${provider.port}/v1`, endpointPath: '/chat/completions' }));
  const saved = { ...process.env };
  Object.assign(process.env, AWS_ENV, { AWS_ENDPOINT_URL: moto.endpoint });
  try {
    const { written } = await seed(TABLES.ProviderTemplate, dir, { log: () => undefined });
    expect(written).toEqual([shipped.id]);
  } finally {
    process.env = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // An endpoint and an assignment, as AppSync stores them.
  const now = new Date().toISOString();
  const put = (table: string, item: object) => client.send(new PutItemCommand({ TableName: table, Item: marshall(item) }));
  await put(TABLES.EndpointConfiguration, {
    id: 'ep-gpt4o', __typename: 'EndpointConfiguration', name: 'Local GPT-4o', providerId: 'openai', modelId: 'gpt-4o',
    environment: 'test', priority: 1, allowedAgents: ['agent-42'], allowedEvaluations: ['eval-allowed'],
    createdAt: now, updatedAt: now,
  });
  await put(TABLES.AgentModelAssignment, {
    id: 'agent-42', __typename: 'AgentModelAssignment', agentId: 'agent-42', endpointIds: ['ep-gpt4o'],
    description: 'local test agent', createdAt: now, updatedAt: now,
  });
  client.destroy();

  // The service sees the same variables the stack sets, with the local table names.
  serviceEnv = {
    ...AWS_ENV,
    AWS_ENDPOINT_URL: moto.endpoint,
    PROVIDER_TEMPLATE_TABLE: TABLES.ProviderTemplate,
    ENDPOINT_CONFIGURATION_TABLE: TABLES.EndpointConfiguration,
    AGENT_MODEL_ASSIGNMENT_TABLE: TABLES.AgentModelAssignment,
    PROVIDER_TEMPLATE_INDEX: stackEnv.PROVIDER_TEMPLATE_INDEX,
    ALLOWED_SECRET_PREFIXES: stackEnv.ALLOWED_SECRET_PREFIXES,
    SECRETS_CACHE_TTL_SECONDS: stackEnv.SECRETS_CACHE_TTL_SECONDS,
  };
  cli = new ServiceCli({ secrets: { [shipped.secretPath]: { [shipped.secretKeyName]: 'sk-test' } }, env: serviceEnv });
}, 120000);

afterAll(async () => {
  await Promise.all([provider.stop(), moto.stop()]);
  cli?.cleanup();
});

describe('by reference, against DynamoDB tables shaped as the stack creates them (moto)', () => {
  test('the agent flow passes agent_id; the service loads assignment, endpoint and template', async () => {
    const response: any = await run(agentDefinition, {
      use_rust_service: true, agent_id: 'agent-42', messages: [{ role: 'user', content: 'By reference' }],
    });
    expect(response.message).toMatchObject({ role: 'assistant', content: 'echo: By reference' });
    expect(response.metadata).toMatchObject({ provider_id: 'openai', model_id: 'gpt-4o' });
    expect(cli.runsFor('By reference')[0].event).toMatchObject({ agent_id: 'agent-42', provider_config: null });
    const request = provider.requests.find((r) => r.body.messages?.some((m: any) => m.content === 'By reference'));
    expect(request?.body.model).toBe('gpt-4o');
    expect(request?.authorization).toBe('Bearer sk-test');
  });

  test('an agent with no assignment fails the execution with ConfigNotFound', async () => {
    await expect(run(agentDefinition, {
      use_rust_service: true, agent_id: 'agent-unknown', messages: [{ role: 'user', content: 'Nobody' }],
    })).rejects.toMatchObject({ cause: { name: 'ConfigNotFound' } });
  });

  test('an evaluation by endpoint_id: allowed evaluations get answers, others AccessDenied per sample', async () => {
    const samples = [{ input: 'Eval one' }, { input: 'Eval two' }, { input: 'Eval three' }];
    const allowed: any = await run(evaluationDefinition, { evaluation_id: 'eval-allowed', endpoint_id: 'ep-gpt4o', samples });
    expect(allowed.results.map((r: any) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(allowed.results[1].response.message.content).toBe('echo: Eval two');

    const denied: any = await run(evaluationDefinition, { evaluation_id: 'eval-other', endpoint_id: 'ep-gpt4o', samples });
    expect(denied.sample_count).toBe(3);
    expect(denied.results.map((r: any) => r.error)).toEqual(['AccessDenied', 'AccessDenied', 'AccessDenied']);
  });
});
