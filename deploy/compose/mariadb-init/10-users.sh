#!/bin/bash
# 10-users.sh -- run once by the mariadb image on an empty data directory: the account
# dadns-writer-mysql writes with (all rights on the pdns database: it creates the tables with
# --init-schema) and the read-only account PowerDNS reads with. Passwords from secrets.env.
set -euo pipefail

: "${DADNS_DNS_BACKENDS_PDNS_PASSWORD:?set it in secrets.env}"
: "${PDNS_GMYSQL_PASSWORD:?set it in secrets.env}"

# sql_quote VALUE - VALUE as the inside of a single-quoted SQL string.
sql_quote() {
    local v="${1//\\/\\\\}"
    printf '%s' "${v//\'/\'\'}"
}

MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-}" mariadb --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS pdns;
CREATE USER IF NOT EXISTS 'dadns'@'%' IDENTIFIED BY '$(sql_quote "$DADNS_DNS_BACKENDS_PDNS_PASSWORD")';
GRANT ALL PRIVILEGES ON pdns.* TO 'dadns'@'%';
CREATE USER IF NOT EXISTS 'pdns'@'%' IDENTIFIED BY '$(sql_quote "$PDNS_GMYSQL_PASSWORD")';
GRANT SELECT ON pdns.* TO 'pdns'@'%';
FLUSH PRIVILEGES;
SQL
