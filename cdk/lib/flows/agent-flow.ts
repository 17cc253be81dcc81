import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  addServiceCatches, addServiceRetries, ERROR_RESULT_PATH, fillAbsentFields, LAMBDA_TRANSIENT_ERRORS, REQUEST_FIELDS,
} from './error-policy';

export interface AgentFlowProps {
  readonly serviceFunction: lambda.IFunction;
  /** The legacy (Python) LLM Lambda kept for a gradual rollout; absent: every call goes to the Rust service. */
  readonly legacyLambdaArn?: string;
  readonly stateMachineType?: sfn.StateMachineType;
  readonly timeout?: Duration;
}

/** The fields of the agent's call; the agent flow has no evaluation. */
export const AGENT_REQUEST_FIELDS = REQUEST_FIELDS.filter((f) => f !== 'evaluation_id');

/**
 * The agent's LLM call. Input: the service's event (either `agent_id`, by reference, or an inline
 * `provider_config`, plus `messages`, `tools?`, ...) and the rollout flag `use_rust_service`.
 * Output: the unified response. The configuration is loaded by the service itself (by reference).
 *
 *   UseRustService? --true / default--> Request{KeepInput,NullDefaults,FillAbsentFields} -> CallRustLLM --> (end)
 *                   --false / default with a legacy ARN--> CallLegacyLLM --> (end)
 *   any named error (after retries) --> AgentCallFailed (Fail, keeps the service's error name and message)
 */
export class AgentFlow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: AgentFlowProps) {
    super(scope, id);

    const failed = new sfn.Fail(this, 'AgentCallFailed', {
      comment: 'The LLM call failed: Error is the service\'s errorType, Cause its message',
      errorPath: `${ERROR_RESULT_PATH}.Error`,
      causePath: `${ERROR_RESULT_PATH}.Cause`,
    });

    // 1. The Rust service. Absent optional fields become null, which the service reads as absent.
    const prepare = fillAbsentFields(this, 'Request', AGENT_REQUEST_FIELDS, 'request');
    const callRust = new tasks.LambdaInvoke(this, 'CallRustLLM', {
      comment: 'agent_id (by reference: the service loads the assignment, endpoint and template) or provider_config',
      lambdaFunction: props.serviceFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject(
        Object.fromEntries(AGENT_REQUEST_FIELDS.map((f) => [f, sfn.JsonPath.objectAt(`$.request.${f}`)])),
      ),
    });
    addServiceRetries(callRust);
    addServiceCatches(callRust, failed);
    prepare.end.next(callRust);
    const rustPath = prepare.start;

    // 2. The legacy Lambda, if any: same event, Lambda-level retries only.
    let legacyPath: sfn.IChainable;
    if (props.legacyLambdaArn) {
      const legacyFn = lambda.Function.fromFunctionArn(this, 'LegacyLlmFunction', props.legacyLambdaArn);
      const callLegacy = new tasks.LambdaInvoke(this, 'CallLegacyLLM', {
        lambdaFunction: legacyFn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        // No payload: the legacy Lambda gets the execution's input as it came.
      });
      callLegacy.addRetry({
        errors: LAMBDA_TRANSIENT_ERRORS,
        interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL,
      });
      callLegacy.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: ERROR_RESULT_PATH });
      legacyPath = callLegacy;
    } else {
      legacyPath = new sfn.Fail(this, 'LegacyServiceNotConfigured', {
        error: 'InvalidInvocation',
        cause: 'use_rust_service is false but this deployment has no legacy LLM Lambda (context legacyLambdaArn)',
      });
    }

    // 3. The rollout flag: explicit true/false wins; absent, the legacy Lambda while there is one.
    const flag = '$.use_rust_service';
    const isFlag = (value: boolean) => sfn.Condition.and(
      sfn.Condition.isPresent(flag), sfn.Condition.isBoolean(flag), sfn.Condition.booleanEquals(flag, value));
    const route = new sfn.Choice(this, 'UseRustService', {
      comment: 'Feature flag for the gradual rollout of the Rust service',
    })
      .when(isFlag(true), rustPath)
      .when(isFlag(false), legacyPath)
      .otherwise(props.legacyLambdaArn ? legacyPath : rustPath);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'AI agent: one LLM call through unified-llm-service',
      definitionBody: sfn.DefinitionBody.fromChainable(route),
      stateMachineType: props.stateMachineType ?? sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.minutes(15),
    });
  }
}
