import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ServiceFunctionProps {
  /** A folder holding `bootstrap`: the `cargo lambda build --arm64` output of this crate. */
  readonly assetPath: string;
  /** Secret-id prefixes the service may read (ALLOWED_SECRET_PREFIXES), e.g. `/ai-agent/llm-secrets/`. */
  readonly allowedSecretPrefixes: string[];
  /** Extra hosts the service may send a key to (ALLOWED_ENDPOINT_HOSTS). */
  readonly allowedEndpointHosts?: string[];
  /** Grant bedrock:InvokeModel (foundation models and inference profiles). */
  readonly enableBedrock?: boolean;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly logRetention?: logs.RetentionDays;
  readonly secretsCacheTtlSeconds?: number;
}

/** The tables the service reads, as the data construct provides them. */
export interface ServiceTables {
  readonly providerTemplate: dynamodb.ITable;
  readonly endpointConfiguration: dynamodb.ITable;
  readonly agentModelAssignment: dynamodb.ITable;
  /** Name of the ProviderTemplate GSI on providerId. */
  readonly providerTemplateIndex: string;
}

/**
 * The Rust Lambda (arm64, provided.al2023, 128 MB) with its log group and a role that holds only what
 * the service needs: its log group, the three tables and the index (read), the EndpointConfiguration
 * table (UpdateItem, for testConnection), secrets under the allowed prefixes, and Bedrock when enabled.
 */
export class ServiceFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    if (props.allowedSecretPrefixes.length === 0) {
      throw new Error('ServiceFunction: at least one allowed secret prefix is required');
    }
    for (const prefix of props.allowedSecretPrefixes) {
      if (!prefix || prefix.includes('*') || !prefix.endsWith('/')) {
        throw new Error(`ServiceFunction: secret prefix "${prefix}" must be a path ending in "/" without wildcards`);
      }
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    // No AWSLambdaBasicExecutionRole: its logs statement is on "*". Grants below are scoped.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'unified-llm-service: read config tables, read LLM API keys, write its own logs',
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));

    const stack = Stack.of(this);
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadLlmApiKeys',
      actions: ['secretsmanager:GetSecretValue'],
      // A secret's ARN is its name plus a 6-character suffix, so `<prefix>*` covers exactly the prefix.
      resources: props.allowedSecretPrefixes.map((prefix) => stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${prefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })),
    }));

    if (props.enableBedrock) {
      this.role.addToPolicy(new iam.PolicyStatement({
        sid: 'InvokeBedrockModels',
        actions: ['bedrock:InvokeModel'],
        resources: [
          `arn:${stack.partition}:bedrock:*::foundation-model/*`,
          `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:inference-profile/*`,
        ],
      }));
    }

    const environment: Record<string, string> = {
      ALLOWED_SECRET_PREFIXES: props.allowedSecretPrefixes.join(','),
      SECRETS_CACHE_TTL_SECONDS: String(props.secretsCacheTtlSeconds ?? 300),
    };
    if (props.allowedEndpointHosts && props.allowedEndpointHosts.length > 0) {
      environment.ALLOWED_ENDPOINT_HOSTS = props.allowedEndpointHosts.join(',');
    }

    this.function = new lambda.Function(this, 'Function', {
      description: 'unified-llm-service: every LLM call of the agent and evaluation frameworks',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(props.assetPath),
      memorySize: props.memorySize ?? 128,
      // A provider call may take its timeout (30 s by default) on each of its internal retries.
      timeout: props.timeout ?? Duration.minutes(3),
      role: this.role,
      logGroup: this.logGroup,
      environment,
    });
  }

  /** Point the service at the config tables and grant exactly the reads (and the one write) it makes. */
  bindTables(tables: ServiceTables): void {
    const fn = this.function;
    fn.addEnvironment('PROVIDER_TEMPLATE_TABLE', tables.providerTemplate.tableName);
    fn.addEnvironment('ENDPOINT_CONFIGURATION_TABLE', tables.endpointConfiguration.tableName);
    fn.addEnvironment('AGENT_MODEL_ASSIGNMENT_TABLE', tables.agentModelAssignment.tableName);
    fn.addEnvironment('PROVIDER_TEMPLATE_INDEX', tables.providerTemplateIndex);

    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadConfigTables',
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: [
        tables.providerTemplate.tableArn,
        `${tables.providerTemplate.tableArn}/index/${tables.providerTemplateIndex}`,
        tables.endpointConfiguration.tableArn,
        tables.agentModelAssignment.tableArn,
      ],
    }));
    // testConnection writes connectionStatus / lastTestedAt / testResults back to the endpoint.
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'RecordConnectionTests',
      actions: ['dynamodb:UpdateItem'],
      resources: [tables.endpointConfiguration.tableArn],
    }));
  }
}
