#!/bin/sh
# Run by the postgres image once, on the first start with an empty data dir
# (mounted at /docker-entrypoint-initdb.d/20-create_db.sh by stack.py).
#
# Synapse refuses a database whose collation is not C, so its database is made from
# template0 with C collation; each bridge gets a database of its own.
# The file must exist before the first apply: a missing bind source would be created
# by Docker as an empty directory, and the databases silently never made.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_USER" <<-SQL
	CREATE DATABASE synapse
	    ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0
	    OWNER "$POSTGRES_USER";
	CREATE DATABASE mautrix_telegram OWNER "$POSTGRES_USER";
	CREATE DATABASE mautrix_gmessages OWNER "$POSTGRES_USER";
	CREATE DATABASE mautrix_discord OWNER "$POSTGRES_USER";
SQL
