import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { UnifiedLlmStack, UnifiedLlmStackProps } from '../../lib/unified-llm-stack';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PLACEHOLDER_ASSET = path.join(__dirname, '..', '..', 'assets', 'placeholder');

export interface Synthesised {
  readonly stack: UnifiedLlmStack;
  readonly template: Template;
}

/** Synthesise the whole stack without AWS: the Lambda asset is the placeholder folder. */
export function synth(props: Partial<UnifiedLlmStackProps> = {}): Synthesised {
  const app = new App();
  const stack = new UnifiedLlmStack(app, 'Test', {
    env: { account: ACCOUNT, region: REGION },
    lambdaAssetPath: PLACEHOLDER_ASSET,
    ...props,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The one resource of `type` whose logical id starts with `prefix`. */
export function resourceOf(template: Template, type: string, prefix: string): [string, any] {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} starting with ${prefix}, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  }
  return matches[0];
}

/**
 * A state machine's ASL, with CloudFormation tokens replaced by plausible literal values
 * (`Fn::GetAtt [X, Arn]` of a Lambda: a Lambda ARN; `Ref` of a pseudo parameter: its value; other
 * `Ref`s: the logical id in lower case), so that it can be validated and run locally.
 */
export function definitionOf(template: Template, logicalIdPrefix: string): any {
  const [, sm] = resourceOf(template, 'AWS::StepFunctions::StateMachine', logicalIdPrefix);
  const def = sm.Properties.DefinitionString;
  const parts: unknown[] = typeof def === 'string' ? [def] : def['Fn::Join'][1];
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  const literal = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const token = part as Record<string, any>;
    if (token.Ref) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[token.Ref] ?? String(token.Ref).toLowerCase();
    }
    if (token['Fn::GetAtt']) {
      const [id, attr] = token['Fn::GetAtt'];
      if (attr === 'Arn' && resources[id]?.Type === 'AWS::Lambda::Function') {
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
      }
    }
    throw new Error(`definitionOf: no literal for ${JSON.stringify(part)}`);
  };
  return JSON.parse(parts.map(literal).join(''));
}

/** All statements of the IAM policies attached to `roleLogicalId`. */
export function statementsOfRole(template: Template, roleLogicalId: string): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p: any) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleLogicalId))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
