import { Match } from 'aws-cdk-lib/assertions';
import { App, Stack } from 'aws-cdk-lib';
import { ServiceFunction } from '../lib/service/service-function';
import { PLACEHOLDER_ASSET, resourceOf, statementsOfRole, synth, Synthesised } from './support/stack';

/** The nested stack output that a table attribute resolves to, e.g. `...ProviderTemplateTable...Arn`. */
const tableAttr = (model: string, attr: 'Arn' | 'Ref') => ({
  'Fn::GetAtt': [
    Match.stringLikeRegexp(`^DataApi${model}NestedStack`),
    Match.stringLikeRegexp(`^Outputs\\..*DataApi${model}${model}Table[0-9A-F]{8}${attr}$`),
  ],
});

/** An ARN built with Fn::Join of the partition, as text: `arn:<partition>:...`. */
const flatArn = (arn: any): string => arn['Fn::Join'][1]
  .map((p: any) => (typeof p === 'string' ? p : (p.Ref === 'AWS::Partition' ? '<partition>' : JSON.stringify(p))))
  .join('');

describe('the service Lambda', () => {
  let s: Synthesised;
  beforeAll(() => { s = synth(); });

  test('is arm64, provided.al2023, 128 MB, handler bootstrap, with its own log group', () => {
    const [, fn] = resourceOf(s.template, 'AWS::Lambda::Function', 'ServiceFunction');
    expect(fn.Properties).toMatchObject({
      Runtime: 'provided.al2023', Architectures: ['arm64'], MemorySize: 128, Handler: 'bootstrap',
    });
    const [logGroupId, logGroup] = resourceOf(s.template, 'AWS::Logs::LogGroup', 'ServiceLogGroup');
    expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  test('has exactly the environment the README Settings section lists, table names from the data construct', () => {
    const [, fn] = resourceOf(s.template, 'AWS::Lambda::Function', 'ServiceFunction');
    const env = fn.Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([
      'AGENT_MODEL_ASSIGNMENT_TABLE', 'ALLOWED_SECRET_PREFIXES', 'ENDPOINT_CONFIGURATION_TABLE',
      'PROVIDER_TEMPLATE_INDEX', 'PROVIDER_TEMPLATE_TABLE', 'SECRETS_CACHE_TTL_SECONDS',
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ALLOWED_SECRET_PREFIXES: '/ai-agent/llm-secrets/',
          SECRETS_CACHE_TTL_SECONDS: '300',
          PROVIDER_TEMPLATE_INDEX: 'byProviderId',
          PROVIDER_TEMPLATE_TABLE: tableAttr('ProviderTemplate', 'Ref'),
          ENDPOINT_CONFIGURATION_TABLE: tableAttr('EndpointConfiguration', 'Ref'),
          AGENT_MODEL_ASSIGNMENT_TABLE: tableAttr('AgentModelAssignment', 'Ref'),
        },
      },
    });
  });

  test('ALLOWED_ENDPOINT_HOSTS and several secret prefixes are passed through', () => {
    const t = synth({
      allowedEndpointHosts: ['llm.internal.example.com', 'api.example.org'],
      allowedSecretPrefixes: ['/ai-agent/llm-secrets/', '/ai-eval/llm-secrets/'],
    });
    const [, fn] = resourceOf(t.template, 'AWS::Lambda::Function', 'ServiceFunction');
    expect(fn.Properties.Environment.Variables.ALLOWED_ENDPOINT_HOSTS).toBe('llm.internal.example.com,api.example.org');
    expect(fn.Properties.Environment.Variables.ALLOWED_SECRET_PREFIXES).toBe('/ai-agent/llm-secrets/,/ai-eval/llm-secrets/');
    const [roleId] = resourceOf(t.template, 'AWS::IAM::Role', 'ServiceRole');
    const secrets = statementsOfRole(t.template, roleId).find((st) => st.Sid === 'ReadLlmApiKeys');
    expect(secrets.Resource.map(flatArn)).toEqual([
      'arn:<partition>:secretsmanager:us-east-1:123456789012:secret:/ai-agent/llm-secrets/*',
      'arn:<partition>:secretsmanager:us-east-1:123456789012:secret:/ai-eval/llm-secrets/*',
    ]);
  });

  test('its role has no managed policy and trusts only Lambda', () => {
    const [, role] = resourceOf(s.template, 'AWS::IAM::Role', 'ServiceRole');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' },
    }]);
  });

  test('every IAM statement: exact actions and resources, no wildcard on tables or secrets', () => {
    const [roleId] = resourceOf(s.template, 'AWS::IAM::Role', 'ServiceRole');
    const [logGroupId] = resourceOf(s.template, 'AWS::Logs::LogGroup', 'ServiceLogGroup');
    const statements = statementsOfRole(s.template, roleId);
    expect(statements.map((st) => st.Sid)).toEqual(
      ['WriteOwnLogs', 'ReadLlmApiKeys', 'ReadConfigTables', 'RecordConnectionTests']);
    for (const st of statements) expect(st.Effect).toBe('Allow');
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));

    expect(bySid.WriteOwnLogs.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(bySid.WriteOwnLogs.Resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });

    expect(bySid.ReadLlmApiKeys.Action).toBe('secretsmanager:GetSecretValue');
    expect(bySid.ReadLlmApiKeys.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' },
        ':secretsmanager:us-east-1:123456789012:secret:/ai-agent/llm-secrets/*']],
    });

    expect(bySid.ReadConfigTables.Action).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    const [pt, ptIndex, ec, ama] = bySid.ReadConfigTables.Resource;
    const expectTable = (value: any, model: string) => {
      expect(value['Fn::GetAtt'][0]).toMatch(new RegExp(`^DataApi${model}NestedStack`));
      expect(value['Fn::GetAtt'][1]).toMatch(new RegExp(`DataApi${model}${model}Table[0-9A-F]{8}Arn$`));
    };
    expect(bySid.ReadConfigTables.Resource).toHaveLength(4);
    expectTable(pt, 'ProviderTemplate');
    expect(ptIndex['Fn::Join'][1][0]).toEqual(pt);
    expect(ptIndex['Fn::Join'][1][1]).toBe('/index/byProviderId');
    expectTable(ec, 'EndpointConfiguration');
    expectTable(ama, 'AgentModelAssignment');

    expect(bySid.RecordConnectionTests.Action).toBe('dynamodb:UpdateItem');
    expectTable(bySid.RecordConnectionTests.Resource, 'EndpointConfiguration');

    // Nothing anywhere in the role's policies is a bare "*" or a table wildcard.
    const text = JSON.stringify(statements);
    expect(text).not.toMatch(/"\*"/);
    expect(text).not.toMatch(/table\/\*/);
    expect(text).not.toMatch(/bedrock/);
  });

  test('bedrock:InvokeModel only when Bedrock is enabled, on models and inference profiles', () => {
    const t = synth({ enableBedrock: true });
    const [roleId] = resourceOf(t.template, 'AWS::IAM::Role', 'ServiceRole');
    const bedrock = statementsOfRole(t.template, roleId).filter((st) => JSON.stringify(st).includes('bedrock'));
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0].Action).toBe('bedrock:InvokeModel');
    expect(bedrock[0].Resource.map(flatArn)).toEqual([
      'arn:<partition>:bedrock:*::foundation-model/*',
      'arn:<partition>:bedrock:us-east-1:123456789012:inference-profile/*',
    ]);
  });

  test('refuses a secret prefix with a wildcard or without a trailing slash', () => {
    const stack = new Stack(new App(), 'S');
    const make = (prefix: string) => () => new ServiceFunction(stack, `F${Math.random()}`, {
      assetPath: PLACEHOLDER_ASSET, allowedSecretPrefixes: [prefix],
    });
    expect(make('/ai-agent/*')).toThrow(/without wildcards/);
    expect(make('/ai-agent')).toThrow(/ending in "\/"/);
    expect(make('')).toThrow();
    expect(() => new ServiceFunction(stack, 'None', { assetPath: PLACEHOLDER_ASSET, allowedSecretPrefixes: [] }))
      .toThrow(/at least one/);
  });
});
