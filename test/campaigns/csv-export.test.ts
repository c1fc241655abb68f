import { sql } from 'drizzle-orm';
import t from 'tap';
import { auth, build } from '../helper.js';

/** RFC 4180, as a spreadsheet reads it (the test's own parser, not the service's code). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

t.test('members and pledge events export as streamed CSV, every row, safely quoted', async (t) => {
  const { app } = await build(t);
  const db = app.database.db;
  await db.execute(sql`insert into campaigns (id, name, currency) values ('777', 'Export', 'EUR')`);
  await db.execute(sql`
    insert into members (id, campaign_id, full_name, email, patron_status, last_charge_status,
      currently_entitled_amount_cents, currency, pledge_cadence)
    select 'm' || lpad(n::text, 5, '0'), '777', 'Patron ' || n, 'p' || n || '@example.com',
      'active_patron', 'Paid', 500, 'EUR', 1
    from generate_series(1, 1234) n`);
  await db.execute(sql`
    insert into members (id, campaign_id, full_name, note, patron_status)
    values ('tricky', '777', '=HYPERLINK("http://evil"), "Quoted"', e'two\\nlines', null)`);
  await db.execute(sql`
    insert into pledge_events (id, campaign_id, member_id, type, date, amount_cents, currency, payment_status)
    select 'e' || n, '777', 'm' || lpad(n::text, 5, '0'), 'subscription',
      now() - (n || ' hours')::interval, 500, 'EUR', 'Paid'
    from generate_series(1, 1100) n`);

  const members = await app.inject({
    url: '/v1/campaigns/777/members',
    headers: { ...auth(), accept: 'text/csv' },
  });
  t.equal(members.statusCode, 200);
  t.match(members.headers['content-type'], /^text\/csv/);
  t.match(
    members.headers['content-disposition'],
    /attachment; filename="campaign-777-members.csv"/,
  );
  const rows = parseCsv(members.body);
  const [header, ...data] = rows;
  t.equal(header?.[0], 'id');
  t.equal(data.length, 1235, 'every member, across export pages of 1000');
  t.equal(new Set(data.map((row) => row[0])).size, 1235, 'none twice');
  const column = (name: string) => header?.indexOf(name) as number;
  const tricky = data.find((row) => row[0] === 'tricky') as string[];
  t.equal(
    tricky[column('full_name')],
    `'=HYPERLINK("http://evil"), "Quoted"`,
    'a formula is defused, quotes and commas survive',
  );
  t.equal(tricky[column('note')], 'two\nlines');
  const first = data.find((row) => row[0] === 'm00001') as string[];
  t.equal(first[column('currently_entitled_amount_cents')], '500');
  t.equal(first[column('currency')], 'EUR');

  const followers = await app.inject({
    url: '/v1/campaigns/777/members?patronStatus=follower',
    headers: { ...auth(), accept: 'text/csv' },
  });
  t.same(
    parseCsv(followers.body)
      .slice(1)
      .map((row) => row[0]),
    ['tricky'],
    'filters apply',
  );

  const events = await app.inject({
    url: '/v1/campaigns/777/pledge-events',
    headers: { ...auth(), accept: 'text/csv' },
  });
  const eventRows = parseCsv(events.body);
  t.equal(eventRows.length, 1 + 1100);
  t.equal(
    eventRows[0]?.join(','),
    'id,member_id,patron_user_id,type,date,amount_cents,currency,payment_status,pledge_payment_status,tier_id,tier_title',
  );

  const json = await app.inject({ url: '/v1/campaigns/777/members?limit=2', headers: auth() });
  t.equal(json.json().data.length, 2, 'without Accept: text/csv, JSON pages as before');
  const missing = await app.inject({
    url: '/v1/campaigns/404/members',
    headers: { ...auth(), accept: 'text/csv' },
  });
  t.equal(missing.statusCode, 404);
  t.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8');
});
