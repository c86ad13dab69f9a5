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
  /* 2: saved job parameters; notification topics, subscriptions and the delivery outbox */ `
  CREATE TABLE training_job_configs (
    name                TEXT PRIMARY KEY,
    description         TEXT,
    parameters          TEXT NOT NULL,
    source_job_name     TEXT,
    source_job_version  TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
  );
  CREATE INDEX training_job_configs_created ON training_job_configs (created_at DESC, name);

  CREATE TABLE notification_topics (
    name               TEXT PRIMARY KEY,
    description        TEXT,
    secret             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    secret_rotated_at  TEXT NOT NULL
  );

  CREATE TABLE notification_subscriptions (
    id          INTEGER PRIMARY KEY,
    topic       TEXT NOT NULL REFERENCES notification_topics(name) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (topic, url)
  );

  CREATE TABLE notification_deliveries (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT NOT NULL,
    topic            TEXT NOT NULL REFERENCES notification_topics(name) ON DELETE CASCADE,
    subscription_id  INTEGER REFERENCES notification_subscriptions(id) ON DELETE SET NULL,
    url              TEXT NOT NULL,
    event            TEXT NOT NULL,
    job_id           INTEGER NOT NULL,
    job_name         TEXT NOT NULL,
    job_version      TEXT NOT NULL,
    body             TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    created_at       TEXT NOT NULL
  );
  CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt_at);
  CREATE INDEX notification_deliveries_topic ON notification_deliveries (topic, id DESC);

  CREATE TABLE notification_attempts (
    delivery_id  INTEGER NOT NULL REFERENCES notification_deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           TEXT NOT NULL,
    http_status  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
  ) WITHOUT ROWID;
  `,
  /* 3: idempotency keys of creates (owner: the user, once accounts exist) */ `
  CREATE TABLE idempotency_keys (
    owner       TEXT NOT NULL DEFAULT '',
    key         TEXT NOT NULL,
    body_hash   TEXT NOT NULL,
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (owner, key)
  ) WITHOUT ROWID;
  `,
  /* 4: datasets and their published versions, each pinning the object list of its folder */ `
  CREATE TABLE datasets (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT,
    path         TEXT NOT NULL,
    created_at   TEXT NOT NULL
  );

  CREATE TABLE dataset_versions (
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    version_num  INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    files        INTEGER NOT NULL,
    total_bytes  INTEGER NOT NULL,
    -- 'publishing' while its files are being recorded; only 'ready' versions are shown or used.
    state        TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version_num)
  ) WITHOUT ROWID;

  CREATE TABLE dataset_files (
    dataset_id   INTEGER NOT NULL,
    version_num  INTEGER NOT NULL,
    key          TEXT NOT NULL,
    size         INTEGER NOT NULL,
    etag         TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version_num, key),
    FOREIGN KEY (dataset_id, version_num) REFERENCES dataset_versions(dataset_id, version_num) ON DELETE CASCADE
  ) WITHOUT ROWID;
  `,
  /* 5: budget metering, one row per job run; no foreign key, a deleted job's consumption still counts */ `
  CREATE TABLE job_usage (
    id              INTEGER PRIMARY KEY,
    -- jobs.id alone can come back after the newest job is deleted; with created_at it is one job.
    job_id          INTEGER NOT NULL,
    job_created_at  TEXT NOT NULL,
    name            TEXT NOT NULL,
    version_num     INTEGER NOT NULL,
    pool_id         TEXT NOT NULL,
    flavor_id       TEXT NOT NULL,
    -- the flavor as it was when the job started, so a later configuration change does not re-price it
    vcpus           REAL NOT NULL,
    gpus            INTEGER NOT NULL,
    nodes           INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    UNIQUE (job_id, job_created_at)
  );
  CREATE INDEX job_usage_started ON job_usage (started_at DESC, id DESC);
  `,
  /* 6: accounts, sessions, API tokens, the audit log; an owner on what users make (null: made before accounts, the first admin's) */ `
  CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    created_at     TEXT NOT NULL
  );

  -- Only hashes of the cookie and token values are kept: a copy of the database signs no one in.
  CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sessions_user ON sessions (user_id);

  CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
  );
  CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

  -- No foreign key: the record outlives the user it names.
  CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    username  TEXT,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    status    INTEGER NOT NULL,
    ip        TEXT NOT NULL
  );
  CREATE INDEX audit_log_user ON audit_log (username, id DESC);

  ALTER TABLE jobs ADD COLUMN owner_id INTEGER;
  CREATE INDEX jobs_owner ON jobs (owner_id, id DESC);
  ALTER TABLE training_job_configs ADD COLUMN owner_id INTEGER;
  ALTER TABLE notification_topics ADD COLUMN owner_id INTEGER;
  ALTER TABLE datasets ADD COLUMN owner_id INTEGER;
  `,
  /* 7: where a node's log was cut to stay under the size limit (head end, marker, dropped counts) */ `
  CREATE TABLE log_caps (
    job_id         INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    node           INTEGER NOT NULL,
    head_end       INTEGER,
    marker_seq     INTEGER,
    dropped_lines  INTEGER NOT NULL,
    dropped_bytes  INTEGER NOT NULL,
    PRIMARY KEY (job_id, node)
  ) WITHOUT ROWID;
  `,
  /* 8: who holds each image tag; the image ID (and digest) a job was checked and run at; verdicts from before the group-0 rule are dropped */ `
  -- No foreign key: a removed user's tags stay theirs, so no one else can take them over.
  CREATE TABLE image_tags (
    tag         TEXT PRIMARY KEY,
    owner_id    INTEGER NOT NULL,
    image_id    TEXT,
    updated_at  TEXT NOT NULL
  ) WITHOUT ROWID;

  ALTER TABLE jobs ADD COLUMN image_id TEXT;
  ALTER TABLE jobs ADD COLUMN image_digest TEXT;

  DELETE FROM image_checks;
  `,
  /* 9: the class of a run's failure (platform, resources, user, stopped, max-runtime) beside its reason */ `
  ALTER TABLE jobs ADD COLUMN failure_class TEXT;
  `,
  /* 10: each name's latest version marked, so the console's one-row-per-name list is an index range like the plain one */ `
  ALTER TABLE jobs ADD COLUMN is_latest INTEGER NOT NULL DEFAULT 0;
  UPDATE jobs SET is_latest = 1 WHERE version_num = (SELECT MAX(j.version_num) FROM jobs j WHERE j.name = jobs.name);
  CREATE INDEX jobs_latest ON jobs (is_latest, id DESC);
  `,
  /* 11: a node's data transfer in progress (JSON: step, files/bytes done of total), and its work folder on the node */ `
  ALTER TABLE job_nodes ADD COLUMN transfer TEXT;
  ALTER TABLE job_nodes ADD COLUMN work_dir TEXT;
  `,
  /* 12: resource usage samples of each job's nodes, bounded per node by thinning (usage/usage-repository.ts) */ `
  CREATE TABLE usage_samples (
    job_id              INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    node                INTEGER NOT NULL,
    at_ms               INTEGER NOT NULL,
    cpu_percent         REAL NOT NULL,
    memory_bytes        INTEGER NOT NULL,
    memory_limit_bytes  INTEGER NOT NULL,
    net_rx_bytes        INTEGER NOT NULL,
    net_tx_bytes        INTEGER NOT NULL,
    blk_read_bytes      INTEGER NOT NULL,
    blk_write_bytes     INTEGER NOT NULL,
    gpu_percent         REAL,
    gpu_memory_bytes    INTEGER,
    PRIMARY KEY (job_id, node, at_ms)
  ) WITHOUT ROWID;
  `,
  /* 13: metrics read from job logs and metrics.jsonl files, per job, name, node and step/time */ `
  CREATE TABLE metric_points (
    id      INTEGER PRIMARY KEY,
    job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    node    INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    step    REAL,
    at      TEXT NOT NULL,
    value   REAL NOT NULL,
    source  TEXT NOT NULL
  );
  CREATE INDEX metric_points_series ON metric_points (job_id, name, node, seq, id);
  `,
  /* 14: on a multi-host engine, the host each node of a job was placed on (its id and name) */ `
  ALTER TABLE job_nodes ADD COLUMN host_id TEXT;
  ALTER TABLE job_nodes ADD COLUMN host_name TEXT;
  `,
  /* 15: automatic retry: a job's current attempt and when its retry may start, one row per attempt (with the first log seq of each node, so an attempt's log is a seq range), events and metered runs per attempt */ `
  ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE jobs ADD COLUMN not_before TEXT;
  ALTER TABLE job_events ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;

  CREATE TABLE job_attempts (
    job_id         INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    attempt        INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    ended_at       TEXT,
    status         TEXT,
    reason         TEXT,
    failure_class  TEXT,
    -- JSON array, per node: the seq of its first log line in this attempt
    first_seqs     TEXT NOT NULL,
    PRIMARY KEY (job_id, attempt)
  ) WITHOUT ROWID;
  INSERT INTO job_attempts (job_id, attempt, started_at, ended_at, status, reason, failure_class, first_seqs)
    SELECT id, 1, COALESCE(started_at, created_at), ended_at,
           CASE WHEN status IN ('Successful', 'Running failed', 'Stopped') THEN status END, reason, failure_class,
           (SELECT json_group_array(1) FROM job_nodes WHERE job_id = jobs.id)
    FROM jobs WHERE status != 'Queuing';

  -- One metered run per attempt: the unique key gains the attempt (SQLite rebuilds the table for that).
  CREATE TABLE job_usage_new (
    id              INTEGER PRIMARY KEY,
    job_id          INTEGER NOT NULL,
    job_created_at  TEXT NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    name            TEXT NOT NULL,
    version_num     INTEGER NOT NULL,
    pool_id         TEXT NOT NULL,
    flavor_id       TEXT NOT NULL,
    vcpus           REAL NOT NULL,
    gpus            INTEGER NOT NULL,
    nodes           INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    UNIQUE (job_id, job_created_at, attempt)
  );
  INSERT INTO job_usage_new (id, job_id, job_created_at, attempt, name, version_num, pool_id, flavor_id, vcpus, gpus, nodes, started_at, ended_at)
    SELECT id, job_id, job_created_at, 1, name, version_num, pool_id, flavor_id, vcpus, gpus, nodes, started_at, ended_at FROM job_usage;
  DROP TABLE job_usage;
  ALTER TABLE job_usage_new RENAME TO job_usage;
  CREATE INDEX job_usage_started ON job_usage (started_at DESC, id DESC);
  `,
];
