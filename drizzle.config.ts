import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` is used: it diffs src/db/schema against migrations/ and writes SQL.
// Migrations are applied by the service at start (and by `npm run db:migrate`), never by drizzle-kit.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
  casing: 'snake_case',
});
