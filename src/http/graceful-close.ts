import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * On close, Node stops accepting and drops idle keep-alive sockets once; a socket that finishes
 * its in-flight response afterwards would hold the process open until keepAliveTimeout. So while
 * draining, responses say `Connection: close` and idle sockets are swept until the server is shut.
 */
export const gracefulClose = fp(
  async (app: FastifyInstance) => {
    let closing = false;
    let sweeper: NodeJS.Timeout | undefined;
    app.addHook('preClose', async () => {
      closing = true;
      sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
      sweeper.unref();
    });
    // A callback hook: no promise per response.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onClose', async () => clearInterval(sweeper));
  },
  { name: 'graceful-close' },
);
