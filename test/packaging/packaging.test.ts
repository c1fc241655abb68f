import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { envSchema } from '../../src/config/schema.js';

// No Docker engine runs here: the files are checked by reading them.
const root = fileURLToPath(new URL('../../', import.meta.url));
const docker = path.join(root, 'docker');
const read = (file: string) => readFile(path.join(root, file), 'utf8');

type Service = {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
};
const compose = parse(await read('docker/compose.yaml')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const gateway = compose.services.gateway as Service;

/** Compose's `${NAME}` and `${NAME:-default}` (the default also when NAME is empty). */
const interpolate = (value: string, vars: Record<string, string>) =>
  value.replace(
    /\$\{(\w+)(?::-([^}]*))?\}/g,
    (_, name: string, fallback = '') => vars[name] || fallback,
  );

/** The gateway's environment as the container sees it, given a `.env` of `vars`. */
const gatewayEnv = (vars: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(gateway.environment ?? {}).map(([name, value]) => [
      name,
      interpolate(String(value), vars),
    ]),
  );

/** Dockerfile instructions (continuation lines joined, comments dropped), grouped by stage. */
function dockerfileStages(text: string) {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const stages: { from: string; instructions: typeof instructions }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push({ from: instruction.args, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** `.dockerignore` entries, and whether one keeps a path out (plain names and folders only). */
async function dockerignore() {
  const patterns = (await read('.dockerignore'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const ignored = (file: string) =>
    patterns.some((pattern) => file === pattern || file.startsWith(`${pattern}/`));
  return { patterns, ignored };
}

t.test('compose runs the gateway beside Postgres, Prometheus and Grafana', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['gateway', 'grafana', 'postgres', 'prometheus']);
  t.ok(
    existsSync(path.join(docker, gateway.build ?? '', 'Dockerfile')),
    'the gateway is built from the Dockerfile',
  );
  t.same(
    gateway.depends_on,
    { postgres: { condition: 'service_healthy' } },
    'started once Postgres is ready',
  );

  const postgres = compose.services.postgres?.environment ?? {};
  const url = new URL(gateway.environment?.DATABASE_URL ?? '');
  t.equal(url.hostname, 'postgres', 'DATABASE_URL names the postgres service');
  t.equal(url.username, postgres.POSTGRES_USER);
  t.equal(url.password, postgres.POSTGRES_PASSWORD);
  t.equal(url.pathname, `/${postgres.POSTGRES_DB}`);
});

t.test("the gateway's environment names only variables the config schema knows", async (t) => {
  const known = new Set(Object.keys(envSchema.shape));
  const names = Object.keys(gateway.environment ?? {});
  t.ok(names.length > 0);
  t.same(
    names.filter((name) => !known.has(name)),
    [],
  );
});

t.test('the gateway starts from the environment compose gives it', async (t) => {
  const sandbox = loadConfig(gatewayEnv({}));
  t.equal(sandbox.patreon.mode, 'sandbox', 'no .env: sandbox mode');
  t.equal(sandbox.database.url, gateway.environment?.DATABASE_URL, 'on the postgres service');

  // What docs/operations.md asks an operator to put in the .env next to compose.yaml for live
  // Patreon: each must reach the container, or the service refuses to start (RETURN_TO_ALLOWLIST,
  // the keys).
  const key = Buffer.alloc(32, 3).toString('base64');
  const live = loadConfig(
    gatewayEnv({
      PUBLIC_URL: 'https://gateway.example.com',
      API_KEYS: 'a'.repeat(32),
      TOKEN_KEYS: `k1:${key}`,
      PATREON_CLIENT_ID: 'client-id',
      PATREON_CLIENT_SECRET: 'client-secret',
      RETURN_TO_ALLOWLIST: 'https://app.example.com/settings/',
      METRICS_TOKEN: 'm'.repeat(32),
      TRUST_PROXY: '1',
    }),
  );
  t.match(live, {
    patreon: { mode: 'live', clientId: 'client-id' },
    server: { publicUrl: 'https://gateway.example.com', trustProxy: 1 },
    apiKeys: ['a'.repeat(32)],
  });
  t.equal(live.tokenKeys.length, 1);
  t.equal(live.oauth.returnToAllowlist.length, 1);
  t.equal(live.metrics.token, 'm'.repeat(32));
});

t.test('every file compose mounts is in the repository, every named volume declared', async (t) => {
  const declared = Object.keys(compose.volumes ?? {});
  for (const [name, service] of Object.entries(compose.services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0] as string;
      if (source.startsWith('.')) {
        t.ok(existsSync(path.join(docker, source)), `${name}: ${source} exists`);
      } else {
        t.ok(declared.includes(source), `${name}: volume ${source} declared`);
      }
    }
  }
});

t.test('the Dockerfile builds in stages and runs a slim, non-root image', async (t) => {
  const stages = dockerfileStages(await read('Dockerfile'));
  t.ok(stages.length >= 2, 'multi-stage');
  const [build, run] = [stages[0], stages.at(-1)];
  const runs = (stage: typeof build, keyword: string) =>
    (stage?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);

  t.match(run?.from, /^(node:24[\w.-]*-slim|gcr\.io\/distroless\/nodejs24)/, 'Node 24, slim');
  t.match(runs(build, 'RUN').join('\n'), /npm ci\b/, 'dependencies from the lockfile');
  t.match(
    runs(build, 'RUN').join('\n'),
    /npm prune --omit=dev/,
    'development dependencies dropped before the copy',
  );
  const copies = runs(run, 'COPY');
  t.ok(
    copies.some((c) => /^--from=\S+ \/app\/node_modules /.test(c)),
    'node_modules from the build stage',
  );
  t.ok(
    copies.some((c) => /^migrations\b/.test(c)),
    'migrations shipped (dist/main.js applies them at start)',
  );
  t.ok(
    copies.some((c) => /^package\.json\b/.test(c)),
    'package.json shipped (src/package-info.ts reads it)',
  );

  const user = runs(run, 'USER').at(-1);
  t.ok(user !== undefined && !/^(root|0)(:|$)/.test(user), `runs as ${user}, not root`);
  t.match(runs(run, 'HEALTHCHECK').join('\n'), /\/readyz/, 'health is /readyz');
  t.match(runs(run, 'CMD').at(-1), /dist\/main\.js/);

  // What the build copies from the context must exist and must not be ignored.
  const { ignored } = await dockerignore();
  for (const stage of stages) {
    for (const copy of runs(stage, 'COPY').filter((c) => !c.startsWith('--from'))) {
      for (const source of copy.split(/\s+/).slice(0, -1)) {
        t.ok(existsSync(path.join(root, source)), `${source} exists`);
        t.notOk(ignored(source), `${source} is in the build context`);
      }
    }
  }
});

t.test('.dockerignore keeps dependencies, history and local secrets out', async (t) => {
  const { ignored } = await dockerignore();
  for (const file of ['node_modules', '.git', 'dist', 'data/dev-api-key', '.env', 'test']) {
    t.ok(ignored(file), `${file} ignored`);
  }
});
