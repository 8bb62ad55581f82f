// Versioned, append-only schema migrations. Never edit a migration that has shipped: append a new
// one. Each runs in one transaction together with its `user_version` bump.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "promises, tasks, callbacks, listeners, outbox, schedules",
    sql: `
      -- A promise. param/value hold the Value JSON exactly as sent (presence of fields preserved).
      -- target and branch copy two tags so that dispatch and preload need no JSON parsing.
      CREATE TABLE promises (
        id          TEXT PRIMARY KEY,
        state       TEXT    NOT NULL,
        param       TEXT    NOT NULL,
        value       TEXT    NOT NULL,
        tags        TEXT    NOT NULL,
        timeout_at  INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        settled_at  INTEGER,
        target      TEXT,
        branch      TEXT
      );
      CREATE INDEX promises_pending_timeout ON promises (timeout_at) WHERE state = 'pending';
      CREATE INDEX promises_branch ON promises (branch) WHERE branch IS NOT NULL;

      -- A task, with its single timeout: 0 = retry while pending, 1 = lease while acquired.
      CREATE TABLE tasks (
        id           TEXT PRIMARY KEY REFERENCES promises (id) ON DELETE CASCADE,
        state        TEXT    NOT NULL,
        version      INTEGER NOT NULL,
        pid          TEXT,
        ttl          INTEGER,
        timeout_type INTEGER,
        timeout_at   INTEGER
      );
      CREATE INDEX tasks_timeout ON tasks (timeout_at) WHERE timeout_at IS NOT NULL;
      CREATE INDEX tasks_holder ON tasks (pid) WHERE pid IS NOT NULL;

      CREATE TABLE callbacks (
        awaited TEXT    NOT NULL,
        awaiter TEXT    NOT NULL,
        ready   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (awaited, awaiter)
      ) WITHOUT ROWID;
      CREATE INDEX callbacks_awaiter ON callbacks (awaiter);

      CREATE TABLE listeners (
        promise_id TEXT NOT NULL,
        address    TEXT NOT NULL,
        PRIMARY KEY (promise_id, address)
      ) WITHOUT ROWID;

      -- The outbox: messages written by the transaction that caused them, sent after commit.
      CREATE TABLE outgoing_execute (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT    NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        address TEXT    NOT NULL
      );
      CREATE TABLE outgoing_unblock (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        promise_id TEXT NOT NULL,
        address    TEXT NOT NULL,
        UNIQUE (promise_id, address)
      );

      CREATE TABLE schedules (
        id              TEXT PRIMARY KEY,
        cron            TEXT    NOT NULL,
        promise_id      TEXT    NOT NULL,
        promise_timeout INTEGER NOT NULL,
        promise_param   TEXT    NOT NULL,
        promise_tags    TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        next_run_at     INTEGER NOT NULL,
        last_run_at     INTEGER
      );
      CREATE INDEX schedules_next_run ON schedules (next_run_at);
    `,
  },
  {
    version: 2,
    description: "index pending tasks (backlog offered when a worker connects)",
    // Without it, finding a group's pending tasks scans every task ever created (3.7 ms at 100k).
    sql: "CREATE INDEX tasks_pending ON tasks (id) WHERE state = 'pending';",
  },
  {
    version: 3,
    description: "markers: server state that outlives a process (when the timeout pass last ran)",
    sql: "CREATE TABLE markers (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
  },
  {
    version: 4,
    description: "task_events: the dispatch history of every task",
    // seq orders the history (and pruning walks it oldest first, so no index on time is needed);
    // one index finds a task's timeline. No foreign key: history outlives nothing it describes,
    // and a task's events are pruned by age with the others.
    sql: `
      CREATE TABLE task_events (
        seq     INTEGER PRIMARY KEY,
        task_id TEXT    NOT NULL,
        at      INTEGER NOT NULL,
        event   TEXT    NOT NULL,
        version INTEGER,
        pid     TEXT,
        replica TEXT,
        n       INTEGER NOT NULL DEFAULT 1,
        last_at INTEGER,
        detail  TEXT
      );
      CREATE INDEX task_events_task ON task_events (task_id, seq);
    `,
  },
  {
    version: 5,
    description: "promises_failed: failed promises by settlement time (the dashboard's recent failures)",
    // Partial: only rejected and timed-out promises are in it, so it costs nothing for the rest.
    sql: "CREATE INDEX promises_failed ON promises (settled_at) WHERE state IN ('rejected', 'rejected_timedout');",
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
