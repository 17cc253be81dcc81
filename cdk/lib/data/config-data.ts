import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AmplifyGraphqlApi, AmplifyGraphqlDefinition } from '@aws-amplify/graphql-api-construct';
import { Construct } from 'constructs';

/** The Cognito group whose members administer templates and endpoints. */
export const ADMIN_GROUP = 'admin';
/** The GSI on ProviderTemplate.providerId; the service reads its name from PROVIDER_TEMPLATE_INDEX. */
export const PROVIDER_TEMPLATE_INDEX = 'byProviderId';
/** The name the schema's @function directives use for the service's Lambda. */
export const RESOLVER_FUNCTION_NAME = 'unifiedLlmService';

export const SCHEMA_FILE = path.join(__dirname, 'schema.graphql');

export interface ConfigDataProps {
  /** The service's Lambda, the resolver of validateTemplate and testConnection. */
  readonly resolverFunction: lambda.IFunction;
  /** An existing user pool for the admin console; a new one (with an `admin` group) otherwise. */
  readonly userPool?: cognito.IUserPool;
  readonly apiName?: string;
}

/**
 * The admin data models (schema.graphql) as an Amplify GraphQL API: the AppSync API, one DynamoDB
 * table per model, and the two admin operations resolved by the service's Lambda.
 */
export class ConfigData extends Construct {
  readonly api: AmplifyGraphqlApi;
  readonly userPool: cognito.IUserPool;
  readonly providerTemplateTable: dynamodb.ITable;
  readonly endpointConfigurationTable: dynamodb.ITable;
  readonly agentModelAssignmentTable: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: ConfigDataProps) {
    super(scope, id);

    if (props.userPool) {
      this.userPool = props.userPool;
    } else {
      const pool = new cognito.UserPool(this, 'AdminUserPool', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      pool.addClient('AdminConsoleClient', { generateSecret: false });
      new cognito.CfnUserPoolGroup(this, 'AdminGroup', {
        userPoolId: pool.userPoolId,
        groupName: ADMIN_GROUP,
        description: 'Administrators of LLM provider templates and endpoints',
      });
      this.userPool = pool;
    }

    this.api = new AmplifyGraphqlApi(this, 'Api', {
      apiName: props.apiName ?? 'unified-llm-config',
      definition: AmplifyGraphqlDefinition.fromFiles(SCHEMA_FILE),
      authorizationModes: {
        defaultAuthorizationMode: 'AMAZON_COGNITO_USER_POOLS',
        userPoolConfig: { userPool: this.userPool },
      },
      functionNameMap: { [RESOLVER_FUNCTION_NAME]: props.resolverFunction },
      translationBehavior: { sandboxModeEnabled: false },
    });

    // The tables hold the admins' work: keep them if the stack goes, and keep their history.
    for (const table of Object.values(this.api.resources.cfnResources.cfnTables)) {
      table.applyRemovalPolicy(RemovalPolicy.RETAIN);
      table.pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
    }

    const tables = this.api.resources.tables;
    this.providerTemplateTable = tables.ProviderTemplate;
    this.endpointConfigurationTable = tables.EndpointConfiguration;
    this.agentModelAssignmentTable = tables.AgentModelAssignment;
  }

  /** The ARN of the ProviderTemplate `byProviderId` index. */
  get providerTemplateIndexArn(): string {
    return `${this.providerTemplateTable.tableArn}/index/${PROVIDER_TEMPLATE_INDEX}`;
  }
}
