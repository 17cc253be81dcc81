#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { DEFAULT_SECRET_PREFIX, UnifiedLlmStack } from '../lib/unified-llm-stack';

/**
 * Context flags (`-c name=value` or cdk.json):
 *   enableBedrock         true to grant bedrock:InvokeModel (default false)
 *   legacyLambdaArn       the legacy LLM Lambda for the agent flow's use_rust_service flag
 *   allowedSecretPrefix   comma-separated secret-id prefixes (default /ai-agent/llm-secrets/)
 *   allowedEndpointHosts  comma-separated extra hosts the service may send a key to
 *   alarmEmail            an address subscribed to the alarm topic
 *   lambdaAssetPath       the folder holding bootstrap (default <repo>/target/lambda/unified-llm-service)
 *   allowPlaceholderAsset true to synthesise with cdk/assets/placeholder when the build output is missing
 */
const app = new App();
const ctx = (name: string): string | undefined => {
  const value = app.node.tryGetContext(name);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const list = (value?: string) => value?.split(',').map((s) => s.trim()).filter(Boolean);

const repoRoot = path.resolve(__dirname, '..', '..');
const builtAsset = ctx('lambdaAssetPath') ?? path.join(repoRoot, 'target', 'lambda', 'unified-llm-service');
let lambdaAssetPath = builtAsset;
if (!fs.existsSync(path.join(builtAsset, 'bootstrap'))) {
  if (ctx('allowPlaceholderAsset') !== 'true') {
    throw new Error(
      `No Lambda build at ${builtAsset}. Run \`cargo lambda build --release --arm64\` at the repository root ` +
      'first, or pass -c allowPlaceholderAsset=true to synthesise with a placeholder (never deploy that).');
  }
  lambdaAssetPath = path.join(__dirname, '..', 'assets', 'placeholder');
}

new UnifiedLlmStack(app, ctx('stackName') ?? 'UnifiedLlmService', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  lambdaAssetPath,
  enableBedrock: ctx('enableBedrock') === 'true',
  legacyLambdaArn: ctx('legacyLambdaArn'),
  allowedSecretPrefixes: list(ctx('allowedSecretPrefix')) ?? [DEFAULT_SECRET_PREFIX],
  allowedEndpointHosts: list(ctx('allowedEndpointHosts')),
  alarmEmail: ctx('alarmEmail'),
});
