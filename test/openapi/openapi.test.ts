import { readFile } from 'node:fs/promises';
import { validate } from '@readme/openapi-parser';
import t from 'tap';
import { parse } from 'yaml';
import { launchBrowser, needsBrowser } from '../fixtures/browser.js';
import { build } from '../helper.js';

t.test(
  'openapi.yaml is a valid OpenAPI 3.1 document and matches what the app serves',
  async (t) => {
    const committed = parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
    const result = await validate(structuredClone(committed));
    t.ok(result.valid, result.valid ? 'valid' : JSON.stringify(result.errors));
    t.equal(committed.openapi, '3.1.0');

    const { app } = await build(t);
    const served = await app.inject({ method: 'GET', url: '/openapi.json' });
    t.equal(served.statusCode, 200);
    t.same(served.json().paths, committed.paths, 'the served document has the committed paths');

    const operations = Object.values(committed.paths as Record<string, Record<string, unknown>>)
      .flatMap((path) => Object.values(path))
      .map(
        (operation) => operation as { operationId?: string; responses: Record<string, unknown> },
      );
    t.ok(operations.length > 0);
    for (const operation of operations) {
      t.ok(operation.operationId, 'every operation has an operationId');
    }
    const list = committed.paths['/v1/connections'].get;
    t.same(list.security ?? committed.security, [{ apiKey: [] }], '/v1 requires the API key');
    t.ok(list.responses['401'].content['application/problem+json'], 'errors are problem+json');
    t.same(committed.paths['/healthz'].get.security, [], 'probes are public');
  },
);

t.test('/docs renders the API reference from local assets', needsBrowser, async (t) => {
  const { app } = await build(t);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });

  const page = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, /https?:\/\/(?!127\.0\.0\.1)[^"']*\.(js|css)/, 'no CDN assets');

  const browser = await launchBrowser(t);
  const tab = await browser.newPage();
  const external: string[] = [];
  tab.on('request', (request) => {
    if (!request.url().startsWith(address)) external.push(request.url());
  });
  await tab.goto(`${address}/docs`);
  t.equal(await tab.title(), 'patreon-gateway API reference');
  await tab.getByText('/v1/connections/{id}').first().waitFor({ timeout: 20_000 });
  t.ok(await tab.getByText('List connections').first().isVisible(), 'operations are rendered');
  t.same(external, [], 'the page loads nothing from outside the service');
});
