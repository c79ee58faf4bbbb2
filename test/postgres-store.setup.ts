// The *-e2e-postgres projects: the same suites, each app on a fresh PostgreSQL database.
process.env.E2E_STORE = 'postgres';
