/**
 * Serves 100k sandbox members page by page (page[count]=1000) over real HTTP
 * and reports pages/s and the process RSS against a baseline taken after startup.
 * Run: npx tsx --expose-gc test/bench/sandbox-members.ts [members]
 * (with --expose-gc it also prints the live heap after a full GC, before and after.)
 */
import Fastify from 'fastify';
import { request } from 'undici';
import { createSandboxState, sandboxPlugin } from '../../src/sandbox/plugin.js';
import { report } from './results.js';

const MEMBERS = Number(process.argv[2] ?? 100_000);
const megabytes = (bytes: number) => bytes / 1024 / 1024;
const mb = (bytes: number) => `${megabytes(bytes).toFixed(1)} MB`;

const state = createSandboxState({ members: MEMBERS, limits: { enabled: false } });
const app = Fastify();
await app.register(sandboxPlugin, { prefix: '/sandbox', state });
const origin = await app.listen({ port: 0, host: '127.0.0.1' });
const token = state.world.tokens.currentCreatorToken()?.access_token ?? '';
const headers = { authorization: `Bearer ${token}`, 'user-agent': 'sandbox-bench' };

async function get(url: string) {
  const response = await request(url, { headers });
  const body = (await response.body.json()) as {
    data: unknown[];
    links?: { next?: string };
  };
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  return body;
}

const first = `${origin}/sandbox/api/oauth2/v2/campaigns/1234560/members?page%5Bcount%5D=1000&include=user,currently_entitled_tiers&fields%5Bmember%5D=full_name,email,patron_status,last_charge_status,currently_entitled_amount_cents,pledge_cadence&fields%5Buser%5D=full_name`;
await get(first.replace('1000', '10'));
global.gc?.();
const baseline = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);

const started = performance.now();
let url: string | undefined = first;
let pages = 0;
let members = 0;
let afterTenPages = 0;
while (url) {
  const page = await get(url);
  pages++;
  members += page.data.length;
  peak = Math.max(peak, process.memoryUsage().rss);
  if (pages === 10) afterTenPages = process.memoryUsage().rss;
  url = page.links?.next;
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const end = process.memoryUsage().rss;
global.gc?.();
const heapAfter = process.memoryUsage().heapUsed;

console.log(`members served: ${members} in ${pages} pages, ${seconds.toFixed(2)} s`);
console.log(
  `throughput:     ${(pages / seconds).toFixed(1)} pages/s (${Math.round(members / seconds)} members/s)`,
);
console.log(`RSS baseline:   ${mb(baseline)}`);
console.log(`RSS peak:       ${mb(peak)} (+${mb(peak - baseline)})`);
console.log(`RSS @10 pages:  ${mb(afterTenPages)}, at end: ${mb(end)}`);
if (global.gc) console.log(`heap after GC:  ${mb(heapBefore)} before, ${mb(heapAfter)} after`);
report({
  bench: 'sandbox',
  case: `${MEMBERS} members, 1000 per page`,
  figure: { value: pages / seconds, unit: 'pages/s' },
});
report({
  bench: 'sandbox',
  case: `${MEMBERS} members: peak RSS`,
  figure: { value: megabytes(peak), unit: 'MB' },
  baseline: { name: 'after startup', value: megabytes(baseline), unit: 'MB' },
});

await app.close();
await state.close();
