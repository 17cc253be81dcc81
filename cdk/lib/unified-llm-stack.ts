import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConfigData, PROVIDER_TEMPLATE_INDEX } from './data/config-data';
import { AgentFlow } from './flows/agent-flow';
import { EvaluationFlow } from './flows/evaluation-flow';
import { Observability } from './observability/observability';
import { ServiceFunction } from './service/service-function';

export interface UnifiedLlmStackProps extends StackProps {
  /** Folder with the Lambda's `bootstrap` (cargo lambda build output). */
  readonly lambdaAssetPath: string;
  /** Secret-id prefixes the service may read; default `/ai-agent/llm-secrets/`. */
  readonly allowedSecretPrefixes?: string[];
  /** Extra hosts the service may send an API key to (ALLOWED_ENDPOINT_HOSTS). */
  readonly allowedEndpointHosts?: string[];
  /** Grant bedrock:InvokeModel. */
  readonly enableBedrock?: boolean;
  /** The legacy LLM Lambda the agent flow's feature flag can route to. */
  readonly legacyLambdaArn?: string;
  /** Subscribe this address to the alarms. */
  readonly alarmEmail?: string;
}

export const DEFAULT_SECRET_PREFIX = '/ai-agent/llm-secrets/';

/** Everything of unified-llm-service: data models, the Lambda, both flows, alarms and a dashboard. */
export class UnifiedLlmStack extends Stack {
  readonly service: ServiceFunction;
  readonly data: ConfigData;
  readonly agentFlow: AgentFlow;
  readonly evaluationFlow: EvaluationFlow;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: UnifiedLlmStackProps) {
    super(scope, id, props);

    this.service = new ServiceFunction(this, 'Service', {
      assetPath: props.lambdaAssetPath,
      allowedSecretPrefixes: props.allowedSecretPrefixes ?? [DEFAULT_SECRET_PREFIX],
      allowedEndpointHosts: props.allowedEndpointHosts,
      enableBedrock: props.enableBedrock,
    });

    // The data models; the service's Lambda resolves the two admin operations.
    this.data = new ConfigData(this, 'Data', { resolverFunction: this.service.function });
    this.service.bindTables({
      providerTemplate: this.data.providerTemplateTable,
      endpointConfiguration: this.data.endpointConfigurationTable,
      agentModelAssignment: this.data.agentModelAssignmentTable,
      providerTemplateIndex: PROVIDER_TEMPLATE_INDEX,
    });

    this.agentFlow = new AgentFlow(this, 'AgentFlow', {
      serviceFunction: this.service.function,
      legacyLambdaArn: props.legacyLambdaArn,
    });
    this.evaluationFlow = new EvaluationFlow(this, 'EvaluationFlow', {
      serviceFunction: this.service.function,
    });

    this.observability = new Observability(this, 'Observability', {
      serviceFunction: this.service.function,
      serviceLogGroup: this.service.logGroup,
      agentStateMachine: this.agentFlow.stateMachine,
      evaluationStateMachine: this.evaluationFlow.stateMachine,
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ServiceFunctionName', { value: this.service.function.functionName });
    new CfnOutput(this, 'GraphqlUrl', { value: this.data.api.graphqlUrl });
    new CfnOutput(this, 'UserPoolId', { value: this.data.userPool.userPoolId });
    new CfnOutput(this, 'ProviderTemplateTableName', { value: this.data.providerTemplateTable.tableName });
    new CfnOutput(this, 'EndpointConfigurationTableName', { value: this.data.endpointConfigurationTable.tableName });
    new CfnOutput(this, 'AgentModelAssignmentTableName', { value: this.data.agentModelAssignmentTable.tableName });
    new CfnOutput(this, 'AgentStateMachineArn', { value: this.agentFlow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EvaluationStateMachineArn', { value: this.evaluationFlow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EvaluationBucketName', { value: this.evaluationFlow.bucket.bucketName });
  }
}
