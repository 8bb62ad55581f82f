// Versioned, append-only schema migrations for PostgreSQL. Never edit a migration that has shipped:
// append a new one. Each runs in one transaction together with its row in schema_migrations, under
// an advisory lock, so that replicas starting at the same moment apply each exactly once.
//
// Ids use the "C" collation: searches and cursors order ids byte-wise, as SQLite does (spec §9).
// Times are bigint milliseconds (read back as JavaScript numbers, exact below 2^53).

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "promises, tasks, callbacks, listeners, outbox, schedules, markers",
    sql: `
      -- param/value hold the Value JSON exactly as sent (presence of fields preserved); tags are
      -- jsonb for containment search; target and branch copy two tags for dispatch and preload.
      CREATE TABLE promises (
        id          text COLLATE "C" PRIMARY KEY,
        state       text   NOT NULL,
        param       text   NOT NULL,
        value       text   NOT NULL,
        tags        jsonb  NOT NULL,
        timeout_at  bigint NOT NULL,
        created_at  bigint NOT NULL,
        settled_at  bigint,
        target      text,
        branch      text COLLATE "C"
      );
      CREATE INDEX promises_pending_timeout ON promises (timeout_at) WHERE state = 'pending';
      CREATE INDEX promises_branch ON promises (branch) WHERE branch IS NOT NULL;
      CREATE INDEX promises_tags ON promises USING gin (tags jsonb_path_ops);

      -- A task, with its single timeout: 0 = retry while pending, 1 = lease while acquired.
      CREATE TABLE tasks (
        id           text COLLATE "C" PRIMARY KEY REFERENCES promises (id) ON DELETE CASCADE,
        state        text    NOT NULL,
        version      integer NOT NULL,
        pid          text,
        ttl          bigint,
        timeout_type smallint,
        timeout_at   bigint
      );
      CREATE INDEX tasks_timeout ON tasks (timeout_at) WHERE timeout_at IS NOT NULL;
      CREATE INDEX tasks_holder ON tasks (pid) WHERE state = 'acquired';
      CREATE INDEX tasks_pending ON tasks (id) WHERE state = 'pending';

      CREATE TABLE callbacks (
        awaited text COLLATE "C" NOT NULL,
        awaiter text COLLATE "C" NOT NULL,
        ready   boolean NOT NULL DEFAULT false,
        PRIMARY KEY (awaited, awaiter)
      );
      CREATE INDEX callbacks_awaiter ON callbacks (awaiter);

      CREATE TABLE listeners (
        promise_id text COLLATE "C" NOT NULL,
        address    text COLLATE "C" NOT NULL,
        PRIMARY KEY (promise_id, address)
      );

      -- The outbox: messages no transaction claimed (dispatch paused), sent by a later drain.
      CREATE TABLE outgoing_execute (
        seq     bigserial PRIMARY KEY,
        task_id text COLLATE "C" NOT NULL UNIQUE,
        version integer NOT NULL,
        address text NOT NULL
      );
      CREATE TABLE outgoing_unblock (
        seq        bigserial PRIMARY KEY,
        promise_id text COLLATE "C" NOT NULL,
        address    text COLLATE "C" NOT NULL,
        UNIQUE (promise_id, address)
      );

      CREATE TABLE schedules (
        id              text COLLATE "C" PRIMARY KEY,
        cron            text   NOT NULL,
        promise_id      text   NOT NULL,
        promise_timeout bigint NOT NULL,
        promise_param   text   NOT NULL,
        promise_tags    jsonb  NOT NULL,
        created_at      bigint NOT NULL,
        next_run_at     bigint NOT NULL,
        last_run_at     bigint
      );
      CREATE INDEX schedules_next_run ON schedules (next_run_at);

      -- Server state that outlives a process (when the timeout pass last ran).
      CREATE TABLE markers (
        name  text PRIMARY KEY,
        value bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: "replicas, their streams, and messages forwarded between them",
    sql: `
      -- Each server replica renews its row; one not seen for a while is taken for dead. Times are
      -- the database's own clock, so that replicas on hosts with skewed clocks agree.
      CREATE TABLE replicas (
        id         text PRIMARY KEY,
        started_at timestamptz NOT NULL DEFAULT now(),
        last_seen  timestamptz NOT NULL DEFAULT now()
      );

      -- The poll streams each replica holds, so that any replica can route to any stream.
      CREATE TABLE streams (
        replica   text    NOT NULL REFERENCES replicas (id) ON DELETE CASCADE,
        seq       integer NOT NULL,
        grp       text    NOT NULL,
        pid       text    NOT NULL,
        opened_at bigint  NOT NULL,
        PRIMARY KEY (replica, seq)
      );
      CREATE INDEX streams_pid ON streams (pid);

      -- A message for a stream held by another replica, written by the transaction that caused
      -- it; the replica is woken by NOTIFY resonate_forward and deletes the rows it delivers.
      CREATE TABLE forwards (
        seq        bigserial PRIMARY KEY,
        replica    text    NOT NULL,
        stream     integer NOT NULL,
        pid        text    NOT NULL,
        address    text    NOT NULL,
        kind       text    NOT NULL,
        target_id  text    NOT NULL,
        message    text    NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX forwards_replica ON forwards (replica, seq);
    `,
  },
  {
    version: 3,
    description: "task_events: the dispatch history of every task",
    // As SQLite's v4: seq orders the history and pruning walks it oldest first; one index finds a
    // task's timeline.
    sql: `
      CREATE TABLE task_events (
        seq     bigserial PRIMARY KEY,
        task_id text    NOT NULL,
        at      bigint  NOT NULL,
        event   text    NOT NULL,
        version integer,
        pid     text,
        replica text,
        n       integer NOT NULL DEFAULT 1,
        last_at bigint,
        detail  jsonb
      );
      CREATE INDEX task_events_task ON task_events (task_id, seq);
    `,
  },
  {
    version: 4,
    description: "promises_failed: failed promises by settlement time (the dashboard's recent failures)",
    sql: "CREATE INDEX promises_failed ON promises (settled_at) WHERE state IN ('rejected', 'rejected_timedout');",
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
