// docs/configuration.md's tables of variables, one per configuration section of libs/config (each
// section's zod object: descriptions, types, bounds and defaults) with the defaults loadConfig
// derives from other variables.
import { CONFIG_SECTIONS, CONFIG_VARIABLES, type ConfigVariable, DERIVED_DEFAULTS, loadConfig, sectionOf } from '@datarun/config';
import { z } from 'zod';
import { cell, code, table } from './markdown.js';

export const CONFIGURATION_SOURCE = 'libs/config/src/sections';

interface JsonSchemaProperty {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  format?: string;
  minLength?: number;
}

interface ZodInternals {
  _zod: { def: { type: string; innerType?: ZodInternals; in?: ZodInternals; checks?: Array<{ _zod: { def: { error?: (issue?: unknown) => unknown } } }> } };
}

/** The messages the schema gives for its own checks (e.g. "a comma-separated list of host:port"). */
function customMessages(schema: unknown): string[] {
  const messages: string[] = [];
  let current = schema as ZodInternals | undefined;
  while (current) {
    const def = current._zod.def;
    for (const check of def.checks ?? []) {
      const message = check._zod.def.error?.();
      if (typeof message === 'string') messages.push(message);
    }
    current = def.innerType ?? def.in;
  }
  return messages;
}

function allowedValues(property: JsonSchemaProperty, messages: readonly string[]): string {
  if (property.enum) return property.enum.map((v) => code(String(v))).join(', ');
  if (property.type === 'integer' || property.type === 'number') {
    const kind = property.type === 'integer' ? 'whole number' : 'number';
    // zod's .int() bounds every integer by the safe range: that is no bound worth showing.
    const min = property.minimum !== undefined && property.minimum > Number.MIN_SAFE_INTEGER ? property.minimum : undefined;
    const max = property.maximum !== undefined && property.maximum < Number.MAX_SAFE_INTEGER ? property.maximum : undefined;
    if (min !== undefined && max !== undefined) return `${kind}, ${min}–${max}`;
    if (min !== undefined) return `${kind}, ≥ ${min}`;
    if (max !== undefined) return `${kind}, ≤ ${max}`;
    return kind;
  }
  if (property.format === 'uri') return 'URL';
  if (messages.length > 0) return messages.join('; ');
  return 'text';
}

function shown(value: unknown): string {
  if (Array.isArray(value)) return code(value.join(','));
  if (value === '') return 'empty';
  return code(String(value));
}

/** One row per variable, in the order of the schema (section by section). */
export function configurationRows(): Array<{ name: ConfigVariable; section: string; allowed: string; default: string; description: string }> {
  const json = z.toJSONSchema(CONFIG_VARIABLES, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonSchemaProperty> };
  const defaults = CONFIG_VARIABLES.parse({}) as Record<string, unknown>;
  const loaded = loadConfig({});
  return (Object.keys(CONFIG_VARIABLES.shape) as ConfigVariable[]).map((name) => {
    const schema = CONFIG_VARIABLES.shape[name];
    const description = schema.description;
    const section = sectionOf(name).name;
    if (!description) throw new Error(`${name} has no .describe() in ${CONFIGURATION_SOURCE}/${section}.ts`);
    const derived = DERIVED_DEFAULTS[name];
    let fallback: string;
    if (defaults[name] !== undefined) fallback = shown(defaults[name]);
    else if (derived) {
      const value = derived.value(loaded);
      fallback = value === undefined ? derived.from : `${code(value)} (from ${derived.from})`;
    } else fallback = 'none';
    return { name, section, allowed: allowedValues(json.properties[name] ?? {}, customMessages(schema)), default: fallback, description };
  });
}

/** A heading and a table per section, in the order of CONFIG_SECTIONS. */
export function configurationTable(): string {
  const rows = configurationRows();
  return CONFIG_SECTIONS.map((section) =>
    [
      `### ${section.name}`,
      '',
      `Read by ${section.owner}; declared in \`${CONFIGURATION_SOURCE}/${section.name}.ts\`.`,
      '',
      table(
        ['variable', 'allowed values', 'default', 'what it does'],
        rows.filter((r) => r.section === section.name).map((r) => [code(r.name), cell(r.allowed), cell(r.default), cell(r.description)]),
      ),
    ].join('\n'),
  ).join('\n\n');
}
