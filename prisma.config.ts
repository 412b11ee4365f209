// Prisma CLI configuration (Prisma 7). `prisma generate` needs only the schema; the migrations are
// applied by `esweep db migrate` (schema-engine-wasm through a driver adapter, works offline), which
// records them in `_prisma_migrations` exactly as `prisma migrate deploy` does.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/esweep' },
});
