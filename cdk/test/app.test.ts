/** bin/app.ts as `cdk synth` runs it: context flags, and no silent placeholder asset. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CDK_DIR = path.join(__dirname, '..');
const TSX = path.join(CDK_DIR, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const LEGACY_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:legacy-llm';

function synthApp(context: Record<string, string>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-app-'));
  const result = spawnSync(process.execPath, [TSX, 'bin/app.ts'], {
    cwd: CDK_DIR,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir,
      CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'us-east-1',
    },
  });
  const file = path.join(outdir, 'UnifiedLlmService.template.json');
  const template = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { status: result.status, stderr: result.stderr, template };
}

describe('bin/app.ts', () => {
  test('refuses to synthesise without the Lambda build unless told to use the placeholder', () => {
    const { status, stderr } = synthApp({ lambdaAssetPath: '/nonexistent/unified-llm-service' });
    expect(status).not.toBe(0);
    expect(stderr).toContain('cargo lambda build --release --arm64');
  });

  test('passes the context flags to the stack', () => {
    const { status, stderr, template } = synthApp({
      lambdaAssetPath: '/nonexistent/unified-llm-service', allowPlaceholderAsset: 'true',
      enableBedrock: 'true', legacyLambdaArn: LEGACY_ARN,
      allowedSecretPrefix: '/ai-agent/llm-secrets/, /ai-eval/llm-secrets/', allowedEndpointHosts: 'llm.internal.example.com',
    });
    expect({ status, stderr: status === 0 ? '' : stderr }).toEqual({ status: 0, stderr: '' });
    const resources = Object.values(template.Resources) as any[];
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'provided.al2023');
    expect(fn.Properties.Environment.Variables).toMatchObject({
      ALLOWED_SECRET_PREFIXES: '/ai-agent/llm-secrets/,/ai-eval/llm-secrets/',
      ALLOWED_ENDPOINT_HOSTS: 'llm.internal.example.com',
    });
    const text = JSON.stringify(template);
    expect(text).toContain('bedrock:InvokeModel');
    expect(text).toContain(LEGACY_ARN);
  });
});
