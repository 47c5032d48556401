#!/usr/bin/env bash
# One-shot set-up of the Couchbase node for the catalog (run by compose's couchbase-init).
# Idempotent: an initialised cluster, an existing bucket or user are left as they are
# (the user's roles are re-applied). Scopes, collections and indexes are created by the
# app itself (python manage.py catalog init), with the application user's roles.
set -euo pipefail

HOST="${COUCHBASE_HOST:-couchbase}"
ADMIN="${COUCHBASE_ADMIN_USERNAME:-Administrator}"
ADMIN_PASSWORD="${COUCHBASE_ADMIN_PASSWORD:?set COUCHBASE_ADMIN_PASSWORD}"
APP_USER="${COUCHBASE_USERNAME:-catalog}"
APP_PASSWORD="${COUCHBASE_PASSWORD:?set COUCHBASE_PASSWORD}"
BUCKET="${CATALOG_BUCKET:-ml}"
BUCKET_RAMSIZE_MB="${CATALOG_BUCKET_RAMSIZE_MB:-512}"
CLI=/opt/couchbase/bin/couchbase-cli

echo "waiting for the REST API on ${HOST}:8091"
for _ in $(seq 1 120); do
  if curl -fsS "http://${HOST}:8091/pools" > /dev/null; then break; fi
  sleep 1
done

if curl -fsS -u "${ADMIN}:${ADMIN_PASSWORD}" "http://${HOST}:8091/pools/default" > /dev/null; then
  echo "cluster already initialised"
else
  echo "initialising the cluster (data, index, query, fts)"
  "${CLI}" cluster-init -c "${HOST}" \
    --cluster-name catalog \
    --cluster-username "${ADMIN}" \
    --cluster-password "${ADMIN_PASSWORD}" \
    --services data,index,query,fts \
    --cluster-ramsize 1024 \
    --cluster-index-ramsize 256 \
    --cluster-fts-ramsize 256 \
    --index-storage-setting default
fi

if "${CLI}" bucket-list -c "${HOST}" -u "${ADMIN}" -p "${ADMIN_PASSWORD}" \
    | grep -qx "${BUCKET}"; then
  echo "bucket ${BUCKET} exists"
else
  echo "creating bucket ${BUCKET}"
  "${CLI}" bucket-create -c "${HOST}" -u "${ADMIN}" -p "${ADMIN_PASSWORD}" \
    --bucket "${BUCKET}" \
    --bucket-type couchbase \
    --bucket-ramsize "${BUCKET_RAMSIZE_MB}" \
    --bucket-replica 0 \
    --enable-flush 0 \
    --wait
fi

# Only what the app needs, on its bucket only: documents, SQL++ (incl. index DDL for
# `catalog init`), full-text search and its index definition, scopes and collections.
ROLES="data_reader[${BUCKET}],data_writer[${BUCKET}]"
ROLES+=",query_select[${BUCKET}],query_insert[${BUCKET}],query_update[${BUCKET}]"
ROLES+=",query_delete[${BUCKET}],query_manage_index[${BUCKET}]"
ROLES+=",fts_searcher[${BUCKET}],fts_admin[${BUCKET}],scope_admin[${BUCKET}]"

echo "creating or updating user ${APP_USER}"
"${CLI}" user-manage -c "${HOST}" -u "${ADMIN}" -p "${ADMIN_PASSWORD}" \
  --set \
  --rbac-username "${APP_USER}" \
  --rbac-password "${APP_PASSWORD}" \
  --rbac-name "model catalog application" \
  --roles "${ROLES}" \
  --auth-domain local

echo "couchbase ready: bucket ${BUCKET}, user ${APP_USER}"
