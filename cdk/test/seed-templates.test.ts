import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DEFAULT_TEMPLATES_DIR, loadTemplates, providerTemplateFields, toItem } from '../scripts/seed-templates';

const minimal = {
  id: 'x-default', name: 'X', providerId: 'x', baseUrl: 'https://api.x.example', endpointPath: '/chat',
  authHeaderName: 'Authorization', secretPath: '/ai-agent/llm-secrets/prod', secretKeyName: 'X_API_KEY',
  requestTransformer: 'openai_v1', responseTransformer: 'openai_v1',
};

describe('seed-templates', () => {
  test('reads the schema\'s ProviderTemplate fields and their defaults', () => {
    const fields = providerTemplateFields();
    expect(fields.providerId).toEqual({ type: 'String', required: true });
    expect(fields.isActive).toEqual({ type: 'Boolean', required: false, default: true });
    expect(fields.defaultTimeout).toEqual({ type: 'Int', required: false, default: 30 });
    expect(fields.availableModels.type).toBe('AWSJSON');
  });

  test('every shipped template in templates/providers is a valid ProviderTemplate item', () => {
    const items = loadTemplates(DEFAULT_TEMPLATES_DIR);
    expect(items.length).toBeGreaterThan(0);
    for (const { file, item } of items) {
      expect(item.__typename).toBe('ProviderTemplate');
      expect(typeof item.providerId).toBe('string');
      expect(item.isActive).toBeDefined();
      expect(typeof item.createdAt).toBe('string');
      expect(() => marshall(item, { removeUndefinedValues: true })).not.toThrow();
      expect(file.endsWith('.json')).toBe(true);
    }
  });

  test('fills defaults, keeps AWSJSON as JSON values (parsing strings), adds Amplify\'s bookkeeping', () => {
    const item = toItem({ ...minimal, defaultHeaders: '{"x-version":"1"}', availableModels: [{ id: 'x-1' }] }, 't', '2026-01-01T00:00:00.000Z');
    expect(item).toMatchObject({
      supportsTools: true, supportsStreaming: false, supportsSystemPrompt: true, defaultTimeout: 30, maxRetries: 3,
      isActive: true, defaultHeaders: { 'x-version': '1' }, availableModels: [{ id: 'x-1' }],
      createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', __typename: 'ProviderTemplate',
    });
    expect(toItem({ ...minimal, isActive: false }, 't').isActive).toBe(false);
  });

  test('refuses unknown fields, missing required fields, invalid JSON and duplicate ids', () => {
    expect(() => toItem({ ...minimal, colour: 'blue' }, 't')).toThrow(/no field "colour"/);
    const { providerId: _omit, ...noProvider } = minimal;
    expect(() => toItem(noProvider, 't')).toThrow(/missing required field\(s\) providerId/);
    expect(() => toItem({ ...minimal, metadata: '{oops' }, 't')).toThrow(/metadata is not valid JSON/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'templates-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(minimal));
      fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify(minimal));
      expect(() => loadTemplates(dir)).toThrow(/two templates have the id x-default/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
