import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import t from 'tap';
import { request } from 'undici';
import { sandboxPlugin } from '../../src/sandbox/plugin.js';

t.test(
  'mounted under /sandbox in a host with zod compilers, its own handlers and swagger',
  async (t) => {
    const host = Fastify();
    host.setValidatorCompiler(validatorCompiler);
    host.setSerializerCompiler(serializerCompiler);
    host.setErrorHandler((_error, _request, reply) => reply.code(500).send({ host: 'error' }));
    host.setNotFoundHandler((_request, reply) => reply.code(404).send({ host: 'not found' }));
    await host.register(swagger, { openapi: { info: { title: 'host', version: '1' } } });
    host.get('/health', async () => ({ ok: true }));
    await host.register(sandboxPlugin, {
      prefix: '/sandbox',
      members: 5,
      publicBaseUrl: 'http://gateway.test/sandbox',
    });
    await host.listen({ port: 0, host: '127.0.0.1' });
    t.teardown(() => host.close());
    const address = host.server.address();
    const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const creator = await request(`${origin}/sandbox/_control/creator-token`);
    const { access_token: token } = (await creator.body.json()) as { access_token: string };
    const members = await request(
      `${origin}/sandbox/api/oauth2/v2/campaigns/1234560/members?page%5Bcount%5D=2`,
      {
        headers: { authorization: `Bearer ${token}`, 'user-agent': 'mount-test' },
      },
    );
    t.equal(members.statusCode, 200);
    t.ok(members.headers['x-patreon-uuid'], 'a Patreon-style request id header');
    const doc = (await members.body.json()) as { links: { next: string } };
    t.match(
      doc.links.next,
      /^http:\/\/gateway\.test\/sandbox\/api\/oauth2\/v2\/campaigns\/1234560\/members\?/,
      'links use publicBaseUrl',
    );

    const missing = await request(`${origin}/sandbox/api/oauth2/v2/nope`);
    t.equal(missing.statusCode, 404);
    const notFound = (await missing.body.json()) as { errors: { status: string }[] };
    t.equal(notFound.errors[0]?.status, '404', 'the sandbox answers its own 404s');
    const hostMissing = await request(`${origin}/elsewhere`);
    t.same(
      await hostMissing.body.json(),
      { host: 'not found' },
      "the host's 404 handler is untouched",
    );

    const token400 = await request(`${origin}/sandbox/api/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    t.equal(token400.statusCode, 400);
    t.same(
      Object.keys((await token400.body.json()) as object).sort(),
      ['error', 'error_description'],
      'OAuth-shaped even for a parse error',
    );

    await host.ready();
    const paths = Object.keys((host.swagger() as { paths?: object }).paths ?? {});
    t.same(paths, ['/health'], 'sandbox routes stay out of the host OpenAPI document');
  },
);
