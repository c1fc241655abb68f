import { sql } from 'drizzle-orm';
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { auth, capturingLogger } from '../helper.js';

t.test('no token Patreon issued ever reaches the database, a log line or a response', async (t) => {
  const capture = capturingLogger('debug');
  const gateway = await startGateway(t, { logger: capture.logger });
  const responses: string[] = [];
  const api = async (method: 'GET' | 'POST' | 'DELETE', url: string) => {
    const response = await gateway.app.inject({ method, url, headers: auth() });
    responses.push(response.body, JSON.stringify(response.headers));
    return response;
  };

  const creator = await gateway.connectOverHttp({
    externalUserId: 'leak-1',
    role: 'creator',
    userId: '4410001',
  });
  const patron = await gateway.connectOverHttp({
    externalUserId: 'leak-2',
    role: 'patron',
    userId: '5000002',
  });
  const creatorId = creator.searchParams.get('connection');
  const patronId = patron.searchParams.get('connection');
  responses.push(creator.toString(), patron.toString());
  t.ok(creatorId && patronId);

  await api('POST', `/v1/connections/${creatorId}/refresh`);
  await api('POST', `/v1/connections/${patronId}/refresh`);
  await api('GET', '/v1/connections');
  await api('GET', `/v1/connections/${creatorId}`);
  await api('DELETE', `/v1/connections/${patronId}`);

  const issued = (await gateway.sandbox.call('/_control/tokens/issued')).json.tokens as string[];
  t.ok(issued.length >= 6, `${issued.length} tokens issued during the flow`);

  const tables = await gateway.database.db.execute<{ name: string }>(
    sql`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname in ('public', 'drizzle')`,
  );
  let dump = '';
  for (const { name } of tables.rows) {
    const rows = await gateway.database.db.execute(
      sql.raw(`select row_to_json(t)::text as row from ${name} t`),
    );
    dump += rows.rows.map((r) => String(r.row)).join('\n');
  }
  t.match(dump, /v1\.test\./, 'the dump does hold sealed tokens');
  const logs = capture.text();
  t.ok(logs.length > 1_000, 'the flow was logged');
  for (const token of issued) {
    t.notOk(dump.includes(token), 'not in the database');
    t.notOk(logs.includes(token), 'not in the logs');
    t.notOk(
      responses.some((body) => body.includes(token)),
      'not in a response',
    );
  }
});
