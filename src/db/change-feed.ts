import net from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';

export type ChangeFeed = { close(): Promise<void> };

/**
 * Listens on one Postgres notification channel over a connection of its own, and reconnects
 * (1 s, doubling to 30 s) when it is lost. `onUp` runs once `LISTEN` is in place, `onDown` as soon
 * as the connection fails: a consumer must not trust what it holds while nothing is heard.
 * Notifications are delivered after their transaction commits, in commit order.
 */
export function startChangeFeed(options: {
  connectionString: string;
  channel: string;
  log: FastifyBaseLogger;
  onMessage(payload: string): void;
  onUp(): void;
  onDown(): void;
  retryMs?: { first: number; max: number };
}): ChangeFeed {
  const retry = options.retryMs ?? { first: 1_000, max: 30_000 };
  const log = options.log.child({ channel: options.channel });
  let current: pg.Client | undefined;
  /** The socket of the client being connected and its attempt: `close` cuts it short, waits. */
  let opening: { socket: net.Socket; attempt: Promise<void> } | undefined;
  let closed = false;
  let delay = retry.first;
  let timer: NodeJS.Timeout | undefined;

  function lost(client: pg.Client, error?: unknown) {
    void client.end().catch(() => {});
    if (client === current) {
      current = undefined;
      options.onDown();
    }
    if (closed) return;
    log.warn({ err: error, retryInMs: delay }, 'change feed lost; reconnecting');
    clearTimeout(timer);
    timer = setTimeout(start, delay);
    delay = Math.min(delay * 2, retry.max);
  }

  function start() {
    // Our own socket (what pg would create), so a connect that hangs can be cut.
    const socket = new net.Socket();
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'patreon-gateway-listen',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      stream: () => socket,
    });
    const attempt = connect(client).finally(() => {
      if (opening?.socket === socket) opening = undefined;
    });
    opening = { socket, attempt };
  }

  async function connect(client: pg.Client) {
    let gone = false;
    const fail = (error?: unknown) => {
      if (gone) return;
      gone = true;
      lost(client, error);
    };
    client.on('error', fail);
    client.on('end', () => fail());
    client.on('notification', (message) => {
      if (client === current && message.channel === options.channel) {
        options.onMessage(message.payload ?? '');
      }
    });
    try {
      await client.connect();
      await client.query(`listen ${pg.escapeIdentifier(options.channel)}`);
    } catch (error) {
      fail(error);
      return;
    }
    if (closed || gone) {
      gone = true;
      await client.end().catch(() => {});
      return;
    }
    current = client;
    delay = retry.first;
    options.onUp();
  }

  start();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      // A connect under way is cut, not left to finish on its own: a server that accepted the
      // socket but never answers would hold it (pg's own end waits for the server's goodbye).
      if (opening) {
        const { socket, attempt } = opening;
        socket.destroy();
        await attempt;
      }
      const client = current;
      current = undefined;
      if (client) await client.end().catch(() => {});
    },
  };
}
