/**
 * The two admin operations: the payload the construct's resolver sends to the Lambda (read from the
 * generated VTL) reaches the service's CLI as an admin operation, and the group check holds there too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { UnifiedLlmStack } from '../lib/unified-llm-stack';
import { ACCOUNT, PLACEHOLDER_ASSET, REGION } from './support/stack';
import { requireServiceBinary, ServiceCli, ServiceError } from './support/service-cli';
import { DEFAULT_TEMPLATES_DIR } from '../scripts/seed-templates';

let cli: ServiceCli;
let payloadKeys: string[];

beforeAll(() => {
  requireServiceBinary();
  cli = new ServiceCli();
  const app = new App();
  const stack = new UnifiedLlmStack(app, 'Test', { env: { account: ACCOUNT, region: REGION }, lambdaAssetPath: PLACEHOLDER_ASSET });
  const dir = app.synth().directory;
  const fnStack = Template.fromStack(stack.data.api.resources.nestedStacks.FunctionDirectiveStack);
  const invoke = Object.values(fnStack.findResources('AWS::AppSync::FunctionConfiguration'))
    .map((f: any) => f.Properties)
    .find((p: any) => p.Name === 'InvokeUnifiedLlmServiceLambdaDataSource');
  const vtl = fs.readFileSync(path.join(dir, `asset.${path.basename(invoke.RequestMappingTemplateS3Location)}`), 'utf8');
  const payload = /"payload":\s*\{([\s\S]*?)\n\s*\}/.exec(vtl)![1];
  payloadKeys = [...payload.matchAll(/"(\w+)":/g)].map((m) => m[1]);
});

afterAll(() => cli?.cleanup());

/** A resolver payload with the generated VTL's keys, for a caller in `groups`. */
function resolverEvent(typeName: string, fieldName: string, args: object, groups: string[]) {
  const values: Record<string, unknown> = {
    typeName, fieldName, arguments: args,
    identity: { sub: 'user-1', username: 'alice', groups, claims: { 'cognito:groups': groups } },
    source: null, request: { headers: {} }, prev: null,
  };
  return Object.fromEntries(payloadKeys.map((k) => [k, values[k]]));
}

describe('admin operations through the resolver payload', () => {
  test('the resolver sends typeName, fieldName, arguments, identity, source, request, prev', () => {
    expect(payloadKeys).toEqual(['typeName', 'fieldName', 'arguments', 'identity', 'source', 'request', 'prev']);
  });

  test('validateTemplate answers an admin', async () => {
    const template = fs.readFileSync(path.join(DEFAULT_TEMPLATES_DIR, 'openai.json'), 'utf8');
    const answer = await cli.handler(resolverEvent('Query', 'validateTemplate', { template, samples: null }, ['admin']));
    expect(answer).toEqual(expect.objectContaining({ valid: true, provider_id: 'openai' }));
  });

  test('a caller outside the admin group is refused by the service as well', async () => {
    const event = resolverEvent('Mutation', 'testConnection', { endpointId: 'ep-1' }, ['users']);
    await expect(cli.handler(event)).rejects.toBeInstanceOf(ServiceError);
    await expect(cli.handler(event)).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
