import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import t, { type Test } from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { migrationsFolder, runMigrations } from '../../src/db/migrations.js';
import { createRealDatabase, realDatabaseUrl } from '../helper.js';

type Journal = { entries: { idx: number; tag: string }[] };

/** A copy of migrations/ holding only the migrations up to and including `lastIdx`. */
async function migrationsUpTo(t: Test, lastIdx: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgw-migrations-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(migrationsFolder, dir, { recursive: true });
  const journalPath = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as Journal;
  journal.entries = journal.entries.filter((entry) => entry.idx <= lastIdx);
  await writeFile(journalPath, JSON.stringify(journal));
  return dir;
}

t.test('0008 keeps what a sync in progress has seen, grouped per job and kind', async (t) => {
  const database = realDatabaseUrl
    ? await openDatabase({ url: await createRealDatabase(t), poolMax: 2 })
    : await openDatabase({ embedded: { inMemory: true } });
  t.teardown(() => database.close());

  const client = await database.pool.connect();
  const job = randomUUID();
  try {
    await migrate(drizzle({ client }), { migrationsFolder: await migrationsUpTo(t, 7) });
    // Only these two tables matter here: skip the foreign keys to the connection and campaign.
    await client.query('set session_replication_role = replica');
    await client.query(
      `insert into sync_jobs (id, connection_id, kind, trigger) values ($1, $2, 'full', 'manual')`,
      [job, randomUUID()],
    );
    await client.query(
      `insert into sync_seen (job_id, kind, resource_id)
       values ($1, 'member', 'm1'), ($1, 'member', 'm2'), ($1, 'post', 'p1')`,
      [job],
    );
    await client.query('set session_replication_role = default');
  } finally {
    client.release();
  }

  await runMigrations(database);
  const { rows } = await database.pool.query<{ kind: string; ids: string[] }>(
    `select kind, array(select unnest(resource_ids) order by 1) as ids
       from sync_seen where job_id = $1 order by kind`,
    [job],
  );
  t.same(rows, [
    { kind: 'member', ids: ['m1', 'm2'] },
    { kind: 'post', ids: ['p1'] },
  ]);
});
