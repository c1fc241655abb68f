import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { tcpProxy } from '../fixtures/tcp-proxy.js';
import { build, freshDatabaseUrl } from '../helper.js';

t.test('healthz and readyz answer without a key', async (t) => {
  const { app } = await build(t);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready', checks: { database: 'ok', migrations: 'current' } });
});

t.test('readyz is 503 while a shipped migration is not applied', async (t) => {
  const { app, database } = await build(t);
  await database.pool.query(
    'delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)',
  );
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(response.statusCode, 503);
  t.same(response.json().checks, { database: 'ok', migrations: 'pending' });
});

t.test('readyz follows the database going away and coming back', async (t) => {
  const target = new URL(await freshDatabaseUrl(t));
  const proxy = tcpProxy(Number(target.port));
  const port = await proxy.listen(0);
  const viaProxy = new URL(target);
  viaProxy.port = String(port);
  const { app } = await build(t, {
    database: await openDatabase({ url: viaProxy.toString(), poolMax: 1 }),
  });
  t.teardown(() => proxy.close());

  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

  await proxy.close();
  const down = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(down.statusCode, 503);
  t.same(down.json(), {
    status: 'unavailable',
    checks: { database: 'unreachable', migrations: 'unknown' },
  });

  await proxy.listen(port);
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'recovers');
});
