/**
 * The schema, in the dialect-neutral SQL of `sql-driver.ts`. Versioned by `schema_version`; a
 * database written by a newer validator is refused rather than misread, an older one is migrated
 * (`MIGRATIONS`).
 */
export const SCHEMA_VERSION = 7;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  seq {serial},
  doc_id TEXT NOT NULL UNIQUE,
  url TEXT,
  token_estimate INTEGER,
  state TEXT NOT NULL DEFAULT 'queued',
  tok_seq_len INTEGER,
  tokens INTEGER,
  checksum BIGINT,
  added_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_ready ON documents (state, tok_seq_len, seq);
CREATE TABLE IF NOT EXISTS document_texts (
  doc_id TEXT PRIMARY KEY,
  text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  created_at_ms BIGINT NOT NULL,
  k INTEGER NOT NULL,
  seq_len INTEGER NOT NULL,
  model_hash TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  quorum INTEGER NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_open ON tasks (state, model_hash, created_at_ms);
CREATE TABLE IF NOT EXISTS task_variants (
  task_id TEXT PRIMARY KEY REFERENCES tasks(task_id),
  variant TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS task_docs (
  task_id TEXT NOT NULL REFERENCES tasks(task_id),
  idx INTEGER NOT NULL,
  doc_id TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  checksum BIGINT NOT NULL,
  PRIMARY KEY (task_id, idx)
);
CREATE TABLE IF NOT EXISTS leases (
  task_id TEXT NOT NULL REFERENCES tasks(task_id),
  miner TEXT NOT NULL,
  leased_at_ms BIGINT NOT NULL,
  deadline_at_ms BIGINT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (task_id, miner)
);
CREATE INDEX IF NOT EXISTS leases_active ON leases (state, deadline_at_ms);
CREATE INDEX IF NOT EXISTS leases_miner ON leases (miner, state);
CREATE TABLE IF NOT EXISTS lease_standing (
  miner TEXT PRIMARY KEY,
  strikes INTEGER NOT NULL,
  cool_down_until_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
  task_id TEXT NOT NULL REFERENCES tasks(task_id),
  miner TEXT NOT NULL,
  submitted_at_ms BIGINT NOT NULL,
  body_sha256 TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  epoch INTEGER,
  unverified INTEGER NOT NULL DEFAULT 0,
  response_json TEXT NOT NULL,
  body {blob},
  body_path TEXT,
  PRIMARY KEY (task_id, miner)
);
CREATE INDEX IF NOT EXISTS results_miner ON results (miner, submitted_at_ms);
CREATE INDEX IF NOT EXISTS results_unverified ON results (miner, unverified, epoch);
CREATE TABLE IF NOT EXISTS miners (
  address TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  gpu_class TEXT,
  streak INTEGER NOT NULL DEFAULT 0,
  validated_tokens BIGINT NOT NULL DEFAULT 0,
  rejected_tokens BIGINT NOT NULL DEFAULT 0,
  payout_address TEXT,
  created_at_ms BIGINT NOT NULL,
  last_seen_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS miner_trust (
  miner TEXT PRIMARY KEY,
  remote_address TEXT,
  established INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS credits (
  miner TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  hour_start_ms BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  PRIMARY KEY (miner, epoch, hour_start_ms)
);
CREATE INDEX IF NOT EXISTS credits_epoch ON credits (epoch);
CREATE TABLE IF NOT EXISTS nonces (
  address TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  PRIMARY KEY (address, nonce)
);
CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at_ms);
CREATE TABLE IF NOT EXISTS payout_challenges (
  challenge_id TEXT PRIMARY KEY,
  miner TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS epoch_publications (
  epoch INTEGER PRIMARY KEY,
  published_at_ms BIGINT NOT NULL
);
`;

/**
 * Statements that bring a database of version N-1 to N, by N. Version 2 moved texts out of
 * `documents`: a document's row changes state on every lease, and SQLite rewrites a whole row,
 * overflow pages and all, to change one column, so 64 leased documents of ~6 KB text meant
 * hundreds of WAL pages per lease and commits of 10-30 ms on the validator's only thread.
 */
export const MIGRATIONS: Record<number, string[]> = {
  2: ['INSERT INTO document_texts (doc_id, text) SELECT doc_id, text FROM documents', 'ALTER TABLE documents DROP COLUMN text'],
  // Version 3 counts expired leases against their keys: its table (lease_standing) and index
  // (leases_miner) are new, so SCHEMA's IF NOT EXISTS creates them in an old database too. The
  // number still moves, so a version-2 validator, which would hand out leases without counting,
  // refuses a database that validators of this version share.
  3: [],
  // Version 4 publishes an epoch's weights only after it settled, and lets a revocation reach the
  // closed epochs still settling. The tables are unchanged (epoch_publications already keeps which
  // epochs were published), but a version-3 validator sharing the database would publish an epoch
  // as it closes, with credit a version-4 validator may still revoke, so it must refuse it.
  4: [],
  // Version 5 lets the validator choose who computes a task's replica (docs/PROTOCOL.md, "Who
  // checks whom"): miner_trust (new, so SCHEMA creates it) keeps each key's remote address and
  // whether it is established. No key of an older database is established: its credit may have
  // been vouched for by a colluding fresh key, which is what this version stops. A version-4
  // validator sharing the database would still hand replicas to the next requester, so it must
  // refuse it.
  5: [],
  // Version 7 accepts several teacher variants (docs/PROTOCOL.md, "Teacher variants"): a task
  // records the variant of its first lease by name in task_variants (new, so SCHEMA creates it),
  // for the data set's `variant` column; its replicas already went only to keys leasing with its
  // model_hash. Tasks made before have no row: which name their hash had is not known here. A
  // version-5 validator sharing the database would make tasks without a variant, so it must
  // refuse it. (Version 6 is another change's.)
  7: [],
};
