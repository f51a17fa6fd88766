// Bounds on what a department's schema can cost per record. Size, depth and RE2 patterns bound
// the schema itself; these bound the work of validating one record against it, which must grow
// at most linearly with the record:
// - `uniqueItems` over anything but scalars is a pairwise deep comparison in ajv (10,000 small
//   objects took ~5 s): refused unless `maxItems` keeps n² small. With `items.type` naming scalar
//   types only, ajv checks uniqueness with a hash map, in one pass.
// - Local `$ref`s make a schema a graph: a chain of `anyOf: [{$ref: next}, {$ref: next}]` is
//   evaluated 2^n times per value, and a `$ref` back to an ancestor recurses as deep as the data
//   nests. Records need neither, so cycles are refused and the schema with every `$ref` inlined
//   must stay small.

/** Above this, `uniqueItems` over non-scalar items would compare too many pairs. */
export const MAX_UNIQUE_NONSCALAR_ITEMS = 256;
/** Schema objects once every `$ref` is inlined: what validating one value can visit at most. */
export const MAX_EXPANDED_SCHEMA_NODES = 20_000;

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

export interface SchemaCostRefusal {
  readonly rule: 'unique-items' | 'recursive-reference' | 'complexity';
  readonly path: string;
  readonly why: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `uniqueItems: true` at a schema node is linear only for declared scalar items, else it needs a small `maxItems`. */
export function uniqueItemsCost(node: Record<string, unknown>, path: string): SchemaCostRefusal | undefined {
  if (node.uniqueItems !== true) return undefined;
  const items = node.items;
  const types = isPlainObject(items) ? [items.type].flat() : [];
  if (types.length > 0 && types.every((type) => typeof type === 'string' && SCALAR_TYPES.has(type))) return undefined;
  if (typeof node.maxItems === 'number' && node.maxItems <= MAX_UNIQUE_NONSCALAR_ITEMS) return undefined;
  return {
    rule: 'unique-items',
    path: `${path}/uniqueItems`,
    why: `"uniqueItems" compares every pair of items unless "items" declares a scalar "type"; declare one, or bound the array with "maxItems" ≤ ${MAX_UNIQUE_NONSCALAR_ITEMS}`,
  };
}

/**
 * Follows every local `$ref` of a schema (already checked to be `#` or `#/…`): refuses a cycle,
 * and a schema whose inlined size exceeds MAX_EXPANDED_SCHEMA_NODES. A `$ref` that resolves to
 * nothing is left for ajv, which names it.
 */
export function referenceCost(root: Record<string, unknown>): SchemaCostRefusal | undefined {
  const expanded = new Map<unknown, number>();
  const visiting = new Set<unknown>();
  let refusal: SchemaCostRefusal | undefined;

  const count = (node: unknown, path: string): number => {
    if (refusal) return 0;
    if (Array.isArray(node)) return node.reduce((sum: number, item, index) => sum + count(item, `${path}/${index}`), 0);
    if (!isPlainObject(node)) return 0;
    const known = expanded.get(node);
    if (known !== undefined) return known;
    if (visiting.has(node)) {
      refusal = { rule: 'recursive-reference', path, why: 'a "$ref" leads back to a schema that contains it; record schemas may not recurse' };
      return 0;
    }
    visiting.add(node);
    let total = 1;
    for (const [key, value] of Object.entries(node)) {
      const at = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (key === '$ref' && typeof value === 'string') {
        const target = resolvePointer(root, value);
        if (target !== undefined) total += count(target, at);
      } else if (typeof value === 'object' && value !== null) {
        total += count(value, at);
      }
      if (total > MAX_EXPANDED_SCHEMA_NODES && !refusal) {
        refusal = {
          rule: 'complexity',
          path,
          why: `with every "$ref" inlined the schema has more than ${MAX_EXPANDED_SCHEMA_NODES} schema objects, each a check per record; share less through "$ref"`,
        };
      }
    }
    visiting.delete(node);
    expanded.set(node, total);
    return total;
  };

  count(root, '');
  return refusal;
}

/** RFC 6901 pointer in a URI fragment (`#/a/b~1c`), or undefined when it points at nothing. */
function resolvePointer(root: Record<string, unknown>, ref: string): unknown {
  if (ref === '#') return root;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isPlainObject(node) && Object.hasOwn(node, token)) node = node[token];
    else return undefined;
  }
  return node;
}
