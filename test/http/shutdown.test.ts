import t from 'tap';
import { request } from 'undici';
import { build } from '../helper.js';

t.test('closing the app lets an in-flight request finish and refuses new work', async (t) => {
  let entered: () => void = () => {};
  const inHandler = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const { app } = await build(t, {
    extend: (app) =>
      app.get('/slow', async () => {
        entered();
        await new Promise((resolve) => setTimeout(resolve, 400));
        // The database must still be open for work that was accepted before the close.
        const { rows } = await app.database.pool.query('select 41 + 1 as answer');
        return { done: true, answer: rows[0].answer };
      }),
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });

  const inFlight = request(`${base}/slow`);
  await inHandler;
  const closing = app.close();

  const response = await inFlight;
  t.equal(response.statusCode, 200);
  t.same(await response.body.json(), { done: true, answer: 42 }, 'the in-flight request completed');
  const started = Date.now();
  await closing;
  t.ok(Date.now() - started < 5_000, 'the kept-alive socket did not hold the close open');
  t.equal(app.server.listening, false, 'the server stopped listening');
  await t.rejects(request(`${base}/healthz`), { code: 'ECONNREFUSED' }, 'new work is refused');
});
