import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SCHEMA_FILE } from '../lib/data/config-data';
import { UnifiedLlmStack } from '../lib/unified-llm-stack';
import { ACCOUNT, PLACEHOLDER_ASSET, REGION, resourceOf } from './support/stack';

// Field names of the Amplify models the admin console already writes (README, "Configuration: Amplify items").
const SEED_PROVIDER_TEMPLATE_FIELDS = [
  'id', 'name', 'providerId', 'baseUrl', 'endpointPath', 'authHeaderName', 'authHeaderPrefix', 'secretPath',
  'secretKeyName', 'requestTransformer', 'responseTransformer', 'requestTemplate', 'responseMapping',
  'supportsTools', 'supportsStreaming', 'supportsSystemPrompt', 'defaultTimeout', 'maxRetries',
  'rateLimitPerMinute', 'availableModels', 'defaultHeaders', 'metadata', 'isActive', 'createdAt', 'updatedAt',
];
const SEED_ENDPOINT_CONFIGURATION_FIELDS = [
  'id', 'name', 'providerId', 'modelId', 'modelParameters', 'customEndpoint', 'customHeaders', 'customTimeout',
  'environment', 'priority', 'costPerToken', 'connectionStatus', 'lastTestedAt', 'testResults', 'allowedAgents',
  'allowedEvaluations', 'owner', 'createdAt', 'updatedAt',
];

/** `{field: type}` of one `type X @model ... { ... }` block of the schema file. */
function fieldsOf(schema: string, typeName: string): Record<string, string> {
  const match = new RegExp(`^type ${typeName} @model[^\\n]*\\n([\\s\\S]*?)\\n\\}`, 'm').exec(schema);
  if (!match) throw new Error(`no type ${typeName}`);
  return Object.fromEntries(match[1].split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((line) => { const [name, rest] = line.split(/:\s*/); return [name, rest.split(/\s+/)[0]]; }));
}

describe('the admin data models', () => {
  let app: App;
  let stack: UnifiedLlmStack;
  let template: Template;
  let assemblyDir: string;
  const nested = (name: string) => Template.fromStack(stack.data.api.resources.nestedStacks[name]);

  beforeAll(() => {
    app = new App();
    stack = new UnifiedLlmStack(app, 'Test', {
      env: { account: ACCOUNT, region: REGION }, lambdaAssetPath: PLACEHOLDER_ASSET,
    });
    template = Template.fromStack(stack);
    assemblyDir = app.synth().directory;
  });

  test('the schema keeps the console\'s fields, JSON fields as AWSJSON, and AgentModelAssignment', () => {
    const schema = fs.readFileSync(SCHEMA_FILE, 'utf8');
    const pt = fieldsOf(schema, 'ProviderTemplate');
    const ec = fieldsOf(schema, 'EndpointConfiguration');
    expect(Object.keys(pt)).toEqual(SEED_PROVIDER_TEMPLATE_FIELDS);
    expect(Object.keys(ec)).toEqual(SEED_ENDPOINT_CONFIGURATION_FIELDS);
    for (const f of ['availableModels', 'defaultHeaders', 'metadata']) expect(pt[f]).toBe('AWSJSON');
    for (const f of ['modelParameters', 'customHeaders', 'testResults']) expect(ec[f]).toBe('AWSJSON');
    expect(ec.isActive).toBeUndefined();
    expect(pt.isActive).toBe('Boolean');
    expect(fieldsOf(schema, 'AgentModelAssignment')).toEqual({
      id: 'ID!', agentId: 'String!', endpointIds: '[String]', description: 'String',
    });
  });

  test('every model and both custom operations are for the admin group only', () => {
    const schema = fs.readFileSync(SCHEMA_FILE, 'utf8');
    const adminOnly = '@auth(rules: [{ allow: groups, groups: ["admin"] }])';
    const models = schema.split('\n').filter((l) => l.includes('@model'));
    expect(models).toHaveLength(3);
    for (const line of models) expect(line).toContain(`@model ${adminOnly}`);
    expect(schema.match(/@auth\(/g)).toHaveLength(5);
    expect(schema.split(adminOnly).length - 1).toBe(5);
  });

  test('ProviderTemplate has the byProviderId index on providerId', () => {
    nested('ProviderTemplate').hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{
        IndexName: 'byProviderId',
        KeySchema: [{ AttributeName: 'providerId', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      }],
    });
  });

  test('one table per model, retained on delete, with point-in-time recovery', () => {
    for (const model of ['ProviderTemplate', 'EndpointConfiguration', 'AgentModelAssignment']) {
      const tables = nested(model).findResources('AWS::DynamoDB::Table');
      expect(Object.values(tables)).toHaveLength(1);
      const table = Object.values(tables)[0] as any;
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(JSON.stringify(table.Properties.TableName)).toContain(`"${model}-"`);
    }
  });

  test('the AppSync API authorises with the user pool, which has an admin group', () => {
    template.hasResourceProperties('AWS::AppSync::GraphQLApi', { AuthenticationType: 'AMAZON_COGNITO_USER_POOLS' });
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'admin' });
    template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
  });

  test('validateTemplate and testConnection are resolved by the service Lambda, admins only', () => {
    const fnStack = nested('FunctionDirectiveStack');
    const [fnId] = resourceOf(template, 'AWS::Lambda::Function', 'ServiceFunction');
    const ds = Object.values(fnStack.findResources('AWS::AppSync::DataSource', { Properties: { Type: 'AWS_LAMBDA' } }));
    expect(ds).toHaveLength(1);
    const fnParam = (ds[0] as any).Properties.LambdaConfig.LambdaFunctionArn.Ref;
    // The nested stack's parameter is the service function's ARN.
    const nestedStackResource = Object.values(template.findResources('AWS::CloudFormation::Stack'))
      .find((r: any) => r.Properties.Parameters?.[fnParam]) as any;
    expect(nestedStackResource.Properties.Parameters[fnParam]).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });

    const functions = fnStack.findResources('AWS::AppSync::FunctionConfiguration');
    for (const [typeName, fieldName] of [['Query', 'validateTemplate'], ['Mutation', 'testConnection']]) {
      const resolvers = Object.values(fnStack.findResources('AWS::AppSync::Resolver', {
        Properties: { TypeName: typeName, FieldName: fieldName },
      })) as any[];
      expect(resolvers).toHaveLength(1);
      const pipeline = resolvers[0].Properties.PipelineConfig.Functions.map((f: any) => f['Fn::GetAtt'][0]);
      expect(pipeline).toHaveLength(2);
      const [auth, invoke] = pipeline.map((id: string) => functions[id].Properties);
      expect(invoke.DataSourceName).toEqual({ 'Fn::GetAtt': [Object.keys(fnStack.findResources('AWS::AppSync::DataSource'))[0], 'Name'] });
      const vtl = fs.readFileSync(path.join(assemblyDir, `asset.${path.basename(auth.RequestMappingTemplateS3Location)}`), 'utf8');
      expect(vtl).toContain('[{"claim":"cognito:groups","entity":"admin"}]');
      expect(vtl).toContain('$util.unauthorized()');
    }
  });
});
