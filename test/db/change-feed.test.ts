import net from 'node:net';
import pino from 'pino';
import t from 'tap';
import { startChangeFeed } from '../../src/db/change-feed.js';
import { listenOnFreePort } from '../fixtures/listen.js';

/**
 * The feed's own connection must not outlive `close`, even while it is still being opened: a
 * server that accepted the socket but never answers (overloaded, or a proxy in front of a dead
 * one) would otherwise keep it open, and the process with it, after the app has shut down.
 */
t.test('close ends a connection that is still being opened', async (t) => {
  const open = new Set<net.Socket>();
  // Accepts, reads and never says a word: the startup handshake waits forever.
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.resume();
  });
  const { port } = await listenOnFreePort(t, server);

  const events: string[] = [];
  const feed = startChangeFeed({
    connectionString: `postgres://nobody@127.0.0.1:${port}/nothing`,
    channel: 'entitlement_changes',
    log: pino({ level: 'silent' }),
    onMessage: () => events.push('message'),
    onUp: () => events.push('up'),
    onDown: () => events.push('down'),
    retryMs: { first: 10, max: 10 },
  });
  for (let i = 0; open.size === 0 && i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.equal(open.size, 1, 'the feed is connecting');

  await feed.close();
  // The server hears the socket close within a turn or two of the event loop once it was ended
  // (waited for up to a second, for a loaded machine).
  for (let i = 0; open.size > 0 && i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.equal(open.size, 0, 'the half-open connection was ended by close');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(open.size, 0, 'and no reconnect followed');
  t.same(events, [], 'never up, so never down');
});
