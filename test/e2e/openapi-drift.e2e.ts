// The contract cannot drift: every app, booted as the other e2e suites boot it (real database and
// broker), serves exactly the OpenAPI document committed in docs/openapi/<app>.json. A route,
// schema or description changed without `npm run generate` fails here, naming the app.
import { readFileSync } from 'node:fs';
import { DOCUMENTED_APPS } from '../../scripts/openapi.js';
import { OPENAPI_DIR, openApiDrift, openApiFile } from '../../scripts/openapi-files.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

describe.each(DOCUMENTED_APPS.map((app) => [app.about.name, app] as const))('the %s app', (name, { about, module }) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await migratedDatabase();
    t = await bootApp(module(db.config), about);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it(`serves the committed docs/openapi/${name}.json`, () => {
    const committed = JSON.parse(readFileSync(openApiFile(OPENAPI_DIR, name), 'utf8'));
    expect(openApiDrift(name, t.openApi, committed)).toBeUndefined();
  });

  it('would fail, naming the app and the fix, if one of its answers changed without the file', () => {
    const committed = JSON.parse(readFileSync(openApiFile(OPENAPI_DIR, name), 'utf8'));
    const served = structuredClone(t.openApi);
    const [path, item] = Object.entries(served.paths)[0];
    const [method, operation] = Object.entries(item)[0];
    operation.responses = { ...operation.responses, 200: { description: 'something else' } };
    expect(openApiDrift(name, served, committed)).toMatch(
      new RegExp(`^the ${name} app serves .* \\(first at paths > ${path.replace(/[{}]/g, '\\$&')} > ${method} > responses > 200.*\\): run npm run generate`),
    );
  });
});
