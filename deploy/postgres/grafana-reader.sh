#!/usr/bin/env bash
# Run once by the postgres image when it initialises its data directory: the read-only role
# Grafana's data source logs in as. It may read every table of the shop, now and those the
# migrations create later (as the superuser), and change nothing.
set -euo pipefail
role=${GRAFANA_DB_USER:-grafana_reader}
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v role="$role" -v password="${GRAFANA_DB_PASSWORD:?GRAFANA_DB_PASSWORD: set it in deploy/.env}" <<'SQL'
select format('create role %I login password %L', :'role', :'password')
  where not exists (select from pg_roles where rolname = :'role') \gexec
select format('alter role %I login password %L nosuperuser nocreatedb nocreaterole', :'role', :'password') \gexec
select format('grant connect on database %I to %I', current_database(), :'role') \gexec
select format('grant usage on schema public to %I', :'role') \gexec
select format('grant select on all tables in schema public to %I', :'role') \gexec
select format('alter default privileges for role %I in schema public grant select on tables to %I', current_user, :'role') \gexec
select format('alter role %I set default_transaction_read_only = on', :'role') \gexec
SQL
