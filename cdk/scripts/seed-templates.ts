/**
 * Writes the default ProviderTemplates (templates/providers/*.json: Amplify-shaped items as plain JSON)
 * into the ProviderTemplate table, as the admin console would have created them.
 *
 *   npx tsx scripts/seed-templates.ts <ProviderTemplateTableName> [--dir ../templates/providers] [--dry-run] [--overwrite]
 *
 * Credentials and region come from the usual AWS SDK settings (AWS_PROFILE, AWS_REGION, ...);
 * AWS_ENDPOINT_URL points it at a local DynamoDB. By default an item whose id already exists is left
 * as it is (an admin may have edited it): --overwrite replaces it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

export const SCHEMA_FILE = path.join(__dirname, '..', 'lib', 'data', 'schema.graphql');
export const DEFAULT_TEMPLATES_DIR = path.join(__dirname, '..', '..', 'templates', 'providers');

/** The ProviderTemplate fields of schema.graphql: name -> {type, required, default}. */
export function providerTemplateFields(schema = fs.readFileSync(SCHEMA_FILE, 'utf8')) {
  const block = /^type ProviderTemplate @model[^\n]*\n([\s\S]*?)\n\}/m.exec(schema);
  if (!block) throw new Error('schema.graphql has no ProviderTemplate model');
  const fields: Record<string, { type: string; required: boolean; default?: unknown }> = {};
  for (const raw of block[1].split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(\w+):\s*(\[?\w+\]?)(!?)(?:.*@default\(value: "([^"]*)"\))?/.exec(line);
    if (!m) continue;
    const [, name, type, bang, def] = m;
    let value: unknown;
    if (def !== undefined) value = type === 'Boolean' ? def === 'true' : type === 'Int' ? Number.parseInt(def, 10) : def;
    fields[name] = { type, required: bang === '!', ...(def !== undefined ? { default: value } : {}) };
  }
  return fields;
}

/**
 * One template file as the item AppSync would store: schema defaults filled in, AWSJSON fields as
 * JSON values (AppSync stores them as DynamoDB maps and lists; the service reads those or JSON strings),
 * `__typename` and timestamps as Amplify writes them. Refuses a field the schema does not have and a
 * missing required field.
 */
export function toItem(template: Record<string, unknown>, source: string, now = new Date().toISOString()) {
  const fields = providerTemplateFields();
  const item: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(template)) {
    const field = fields[name];
    if (!field) throw new Error(`${source}: ProviderTemplate has no field "${name}"`);
    if (value === null || value === undefined) continue;
    item[name] = field.type === 'AWSJSON' && typeof value === 'string' ? parseJson(value, `${source}: ${name}`) : value;
  }
  for (const [name, field] of Object.entries(fields)) {
    if (item[name] === undefined && field.default !== undefined) item[name] = field.default;
  }
  item.createdAt ??= now;
  item.updatedAt ??= now;
  item.__typename = 'ProviderTemplate';
  const missing = Object.entries(fields).filter(([n, f]) => f.required && item[n] === undefined).map(([n]) => n);
  if (missing.length) throw new Error(`${source}: missing required field(s) ${missing.join(', ')}`);
  return item;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The items of every *.json file in `dir`, sorted by file name. */
export function loadTemplates(dir: string): { file: string; item: Record<string, unknown> }[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no *.json provider templates in ${dir}`);
  const items = files.map((file) => {
    const source = path.join(dir, file);
    return { file, item: toItem(parseJson(fs.readFileSync(source, 'utf8'), source) as Record<string, unknown>, source) };
  });
  const ids = items.map(({ item }) => item.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new Error(`two templates have the id ${String(duplicate)}`);
  return items;
}

export async function seed(
  tableName: string, dir: string,
  options: { dryRun?: boolean; overwrite?: boolean; log?: (line: string) => void } = {},
) {
  const log = options.log ?? console.log;
  const items = loadTemplates(dir);
  const client = new DynamoDBClient({});
  const written: string[] = [];
  const kept: string[] = [];
  for (const { file, item } of items) {
    if (options.dryRun) {
      log(`${file}: would write ${String(item.id)} (${String(item.providerId)})`);
      continue;
    }
    try {
      await client.send(new PutItemCommand({
        TableName: tableName,
        Item: marshall(item, { removeUndefinedValues: true }),
        ...(options.overwrite ? {} : { ConditionExpression: 'attribute_not_exists(id)' }),
      }));
      written.push(String(item.id));
      log(`${file}: wrote ${String(item.id)} (${String(item.providerId)})`);
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        kept.push(String(item.id));
        log(`${file}: ${String(item.id)} exists, left as it is (--overwrite replaces it)`);
      } else {
        throw e;
      }
    }
  }
  client.destroy();
  return { written, kept };
}

async function main(argv: string[]) {
  const args = argv.filter((a) => !a.startsWith('--'));
  const dirFlag = argv.indexOf('--dir');
  const dir = dirFlag >= 0 ? argv[dirFlag + 1] : DEFAULT_TEMPLATES_DIR;
  const table = args.filter((a) => a !== dir)[0];
  if (!table) {
    console.error('usage: npx tsx scripts/seed-templates.ts <ProviderTemplateTableName> [--dir DIR] [--dry-run] [--overwrite]');
    process.exit(64);
  }
  const { written, kept } = await seed(table, dir, { dryRun: argv.includes('--dry-run'), overwrite: argv.includes('--overwrite') });
  console.log(`${written.length} written, ${kept.length} left as they were, into ${table}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`seed-templates: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
