import { readFile } from 'node:fs/promises';
import semver from 'semver';
import t from 'tap';

// The lock records each installed package's `engines`, so every dependency, direct or not, dev
// tools included, is checked against the Node versions we promise (docs/development.md, "Node
// versions").
const root = new URL('../../', import.meta.url);
const readJson = async (file: string) => JSON.parse(await readFile(new URL(file, root), 'utf8'));

type LockEntry = { version?: string; engines?: Record<string, string> | string[] };
const manifest = (await readJson('package.json')) as { engines: { node: string } };
const lock = (await readJson('package-lock.json')) as { packages: Record<string, LockEntry> };

/** `engines` is an object today; a few old packages still carry the array form (`"node >= 0.2"`). */
function nodeRange(engines: LockEntry['engines']): string | undefined {
  if (!Array.isArray(engines)) return engines?.node;
  const entry = engines.find((item) => item.startsWith('node'));
  return entry?.slice('node'.length).trim();
}

t.test('every installed package runs on the lowest Node we promise', async (t) => {
  const lowest = semver.minVersion(manifest.engines.node)?.version;
  t.ok(lowest, `engines.node ${manifest.engines.node} has a lowest version`);
  if (!lowest) return;

  const refused: string[] = [];
  let checked = 0;
  for (const [location, entry] of Object.entries(lock.packages)) {
    const range = location === '' ? undefined : nodeRange(entry.engines);
    if (range === undefined) continue;
    checked++;
    if (!semver.satisfies(lowest, range))
      refused.push(`${location}@${entry.version}: node ${range}`);
  }
  t.ok(checked > 50, `${checked} packages declare a Node range`);
  t.same(refused, [], `all admit Node ${lowest}`);
});

t.test('the lock was made from this package.json', async (t) => {
  const root = lock.packages[''] as { engines?: { node?: string } } | undefined;
  t.equal(root?.engines?.node, manifest.engines.node);
});
