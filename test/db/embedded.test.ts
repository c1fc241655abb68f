import t from 'tap';
import { openDatabase } from '../../src/db/database.js';

t.test('on the embedded database, a failed query does not fail the next one', async (t) => {
  const database = await openDatabase({ embedded: { inMemory: true } });
  t.teardown(() => database.close());
  await database.pool.query('create table t (id int primary key)');
  await database.pool.query('insert into t values (1)');
  for (let round = 0; round < 3; round++) {
    await t.rejects(
      database.pool.query('insert into t values (1)'),
      { code: '23505' },
      'the duplicate is refused',
    );
    const { rows } = await database.pool.query<{ n: number }>('select count(*)::int as n from t');
    t.same(rows, [{ n: 1 }], 'and the next query answers');
  }
});
