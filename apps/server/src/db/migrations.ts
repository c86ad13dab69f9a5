/**
 * Versioned schema. Append only: a released migration is never edited, the next change is a
 * new entry. The index + 1 is the schema level stored in PRAGMA user_version.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: jobs, their nodes, events, logs, image verdicts */ `
  CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    version_num  INTEGER NOT NULL,
    description  TEXT,
    status       TEXT NOT NULL,
    reason       TEXT,
    spec         TEXT NOT NULL,
    pool_id      TEXT NOT NULL,
    flavor_id    TEXT NOT NULL,
    node_count   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    ended_at     TEXT,
    UNIQUE (name, version_num)
  );
  CREATE INDEX jobs_created ON jobs (id DESC);
  CREATE INDEX jobs_status ON jobs (status);

  CREATE TABLE job_nodes (
    job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    hostname     TEXT NOT NULL,
    container_id TEXT,
    state        TEXT NOT NULL,
    exit_code    INTEGER,
    PRIMARY KEY (job_id, idx)
  );

  CREATE TABLE job_events (
    id       INTEGER PRIMARY KEY,
    job_id   INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    type     TEXT NOT NULL,
    message  TEXT NOT NULL
  );
  CREATE INDEX job_events_job ON job_events (job_id, id);

  CREATE TABLE log_lines (
    job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    node    INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL,
    stream  TEXT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (job_id, node, seq)
  ) WITHOUT ROWID;

  CREATE TABLE image_checks (
    image_id    TEXT PRIMARY KEY,
    image_ref   TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    reason      TEXT,
    checked_at  TEXT NOT NULL
  );
  `,
];
