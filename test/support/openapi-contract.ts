// Checks a real answer against the OpenAPI document its app serves: the route and method are
// documented, the status is one of the operation's responses, the media type is one it declares,
// and a JSON body is valid against the declared schema (with our own ajv wrapper, strict). Every
// request the e2e suites make through bootApp's client goes through here (test/support/apps.ts),
// so a schema that lies fails the test that met the lie.
import { compileTrusted, type TrustedValidator } from '@datarun/schemas';

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, { responses?: Record<string, { description?: string; content?: Record<string, { schema?: object }> }> }>>;
  readonly components?: { readonly schemas?: Record<string, object> };
}

export interface Answer {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly contentType?: string;
  /** The raw body (text), or undefined when there was none. */
  readonly text?: string;
}

const COMPONENT_REF = '#/components/schemas/';

/** The OpenAPI 3.1 schema as a standalone JSON Schema: the components it uses become $defs. */
function standalone(schema: object, components: Record<string, object>): object {
  const used = new Set<string>();
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => {
        if (key !== '$ref' || typeof value !== 'string' || !value.startsWith(COMPONENT_REF)) return [key, rewrite(value)];
        const name = value.slice(COMPONENT_REF.length);
        if (!used.has(name)) {
          used.add(name);
          defs[name] = rewrite(components[name]);
        }
        return [key, `#/$defs/${name}`];
      }),
    );
  };
  const defs: Record<string, unknown> = {};
  return { ...(rewrite(schema) as object), $defs: defs };
}

/**
 * Compiled validators by standalone schema, shared by every app a test process boots: ajv's
 * strict compile is slow enough under load to skew a timing-sensitive test (the rate limit's).
 */
const VALIDATORS = new Map<string, TrustedValidator>();

function validatorOf(schema: object): TrustedValidator {
  const key = JSON.stringify(schema);
  let validate = VALIDATORS.get(key);
  if (!validate) {
    validate = compileTrusted(schema);
    VALIDATORS.set(key, validate);
  }
  return validate;
}

const isJson = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');

/** `/v1/cases/{id}` as a pattern, and how many of its segments are literal (the most specific wins). */
function templates(document: OpenApiDocument): Array<{ path: string; pattern: RegExp; literal: number }> {
  return Object.keys(document.paths)
    .map((path) => {
      const segments = path.split('/');
      const pattern = new RegExp(`^${segments.map((s) => (/^\{\w+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}/?$`);
      return { path, pattern, literal: segments.filter((s) => !s.startsWith('{')).length };
    })
    .sort((a, b) => b.literal - a.literal);
}

export class OpenApiContract {
  private readonly routes: ReturnType<typeof templates>;
  private readonly validators = new Map<string, TrustedValidator>();

  constructor(private readonly document: OpenApiDocument) {
    this.routes = templates(document);
  }

  /** What is wrong with the answer by the document, or undefined when nothing is. */
  check(answer: Answer): string | undefined {
    const method = answer.method.toLowerCase();
    const path = answer.url.split('?')[0];
    // The document itself and its browsable page are served beside the API, not part of it.
    if (method === 'head' || method === 'options' || /^\/(docs|openapi\.(json|yaml))(\/|$)/.test(path)) return undefined;
    const template = this.routes.find((r) => r.pattern.test(path))?.path;
    const operation = template === undefined ? undefined : this.document.paths[template][method];
    const name = `${answer.method.toUpperCase()} ${template ?? path} ${answer.status}`;
    // A path or method the app does not have: the router's 404/405, a problem like any other.
    if (!operation)
      return answer.status === 404 || answer.status === 405
        ? this.checkBody(name, 'Problem', { $ref: `${COMPONENT_REF}Problem` }, answer)
        : `${name}: the route is not in the OpenAPI document`;
    const response = operation.responses?.[String(answer.status)] ?? operation.responses?.default;
    if (!response) return `${name}: the status is not among the responses the OpenAPI document lists (${Object.keys(operation.responses ?? {}).join(', ')})`;
    const content = response.content ?? {};
    if (Object.keys(content).length === 0) return answer.text ? `${name}: the document says no body, the app sent ${answer.contentType ?? 'one'}` : undefined;
    const mediaType = (answer.contentType ?? '').split(';')[0].trim().toLowerCase();
    const declared = content[mediaType];
    if (!declared) return `${name}: answered ${mediaType || 'no content type'}, the document declares ${Object.keys(content).join(', ')}`;
    if (!isJson(mediaType) || !declared.schema) return undefined;
    return this.checkBody(`${name} ${mediaType}`, `${template} ${method} ${answer.status} ${mediaType}`, declared.schema, answer);
  }

  private checkBody(name: string, key: string, schema: object, answer: Answer): string | undefined {
    let body: unknown;
    try {
      body = JSON.parse(answer.text ?? '');
    } catch {
      return `${name}: the body is not JSON`;
    }
    let validate = this.validators.get(key);
    if (!validate) {
      validate = validatorOf(standalone(schema, this.document.components?.schemas ?? {}));
      this.validators.set(key, validate);
    }
    const verdict = validate(body);
    if (verdict.ok) return undefined;
    const errors = verdict.errors.map((e) => `${e.path || '(the body)'} ${e.message}`).join('; ');
    return `${name}: the body does not match its schema in the OpenAPI document: ${errors}\n${JSON.stringify(body, null, 2).slice(0, 2000)}`;
  }
}
