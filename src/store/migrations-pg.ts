/**
 * The PostgreSQL DDL of each migration in `migrations.ts`, by version: the same tables, columns, constraints
 * and indexes, in PostgreSQL's types (BIGSERIAL for `INTEGER PRIMARY KEY`, BIGINT for ids, epoch ms and
 * counters, DOUBLE PRECISION for REAL, BYTEA for BLOB; no `WITHOUT ROWID`). Plain SQL and no extension, so
 * that PostgreSQL-compatible servers (openGauss, PolarDB, KingbaseES) stay possible. A PostgreSQL database is
 * always migrated from empty (`npm run migrate-store` brings data over afterwards), so where a SQLite
 * migration copies or back-fills rows, its PostgreSQL entry starts from the same end state. Append only, as
 * the SQLite list: a version listed there without an entry here stops the service at start.
 */
/**
 * Text compares byte by byte, as in SQLite (BINARY) and as JS compares the ids it binary-searches: the
 * snapshot lists resources in id order, and cursors page by `id > ?`. A server's default collation (en_US,
 * zh_CN) would order them otherwise.
 */
const TEXT = 'TEXT COLLATE "C"';

export const POSTGRES_DDL: ReadonlyMap<number, string> = new Map([
  [1, `
    CREATE TABLE resources (
      seq              BIGSERIAL PRIMARY KEY,
      id               ${TEXT} NOT NULL,
      name             ${TEXT} NOT NULL,
      name_en          ${TEXT},
      type             ${TEXT} NOT NULL,
      lng              DOUBLE PRECISION NOT NULL,
      lat              DOUBLE PRECISION NOT NULL,
      district         ${TEXT} NOT NULL,
      terms            ${TEXT} NOT NULL,
      stages           ${TEXT} NOT NULL,
      opening_hours    ${TEXT},
      free             INTEGER,
      booking_required INTEGER,
      doc              ${TEXT} NOT NULL,
      updated_at       ${TEXT} NOT NULL,
      retired_at       ${TEXT}
    );
    CREATE UNIQUE INDEX resources_current ON resources(id) WHERE retired_at IS NULL;
    CREATE INDEX resources_retired ON resources(retired_at) WHERE retired_at IS NOT NULL;
    CREATE TABLE areas (
      id         ${TEXT} PRIMARY KEY,
      kind       ${TEXT} NOT NULL CONSTRAINT areas_kind_check CHECK (kind IN ('district', 'school_district')),
      name       ${TEXT} NOT NULL,
      parent_id  ${TEXT},
      geometry   ${TEXT} NOT NULL,
      properties ${TEXT} NOT NULL DEFAULT '{}',
      updated_at ${TEXT} NOT NULL
    );
    CREATE TABLE meta (key ${TEXT} PRIMARY KEY, value ${TEXT} NOT NULL);
  `],
  [2, `
    CREATE TABLE slots (
      id                  BIGSERIAL PRIMARY KEY,
      resource_id         ${TEXT} NOT NULL,
      start_ms            BIGINT NOT NULL,
      end_ms              BIGINT NOT NULL,
      capacity_individual INTEGER NOT NULL CONSTRAINT slots_capacity_individual_check CHECK (capacity_individual >= 0),
      capacity_group      INTEGER NOT NULL CONSTRAINT slots_capacity_group_check CHECK (capacity_group >= 0),
      taken_individual    INTEGER NOT NULL DEFAULT 0,
      taken_group         INTEGER NOT NULL DEFAULT 0,
      group_min           INTEGER NOT NULL CONSTRAINT slots_group_min_check CHECK (group_min >= 1),
      group_max           INTEGER NOT NULL,
      changed_seq         BIGINT NOT NULL,
      created_at          ${TEXT} NOT NULL,
      -- Constraints on several columns are table constraints in PostgreSQL.
      CONSTRAINT slots_taken_individual_check CHECK (taken_individual BETWEEN 0 AND capacity_individual),
      CONSTRAINT slots_taken_group_check CHECK (taken_group BETWEEN 0 AND capacity_group),
      CONSTRAINT slots_group_max_check CHECK (group_max >= group_min),
      CONSTRAINT slots_check CHECK (end_ms > start_ms)
    );
    CREATE INDEX slots_resource_start ON slots(resource_id, start_ms);
    CREATE INDEX slots_changed ON slots(changed_seq);
    CREATE TABLE bookings (
      id           ${TEXT} PRIMARY KEY,
      slot_id      BIGINT NOT NULL REFERENCES slots(id),
      kind         ${TEXT} NOT NULL CONSTRAINT bookings_kind_check CHECK (kind IN ('individual', 'group')),
      party_size   INTEGER NOT NULL CONSTRAINT bookings_party_size_check CHECK (party_size >= 1),
      status       ${TEXT} NOT NULL CONSTRAINT bookings_status_check CHECK (status IN ('confirmed', 'cancelled')),
      token_sha256 BYTEA NOT NULL,
      contact_name ${TEXT} NOT NULL,
      phone_hmac   BYTEA NOT NULL,
      phone_masked ${TEXT} NOT NULL,
      visitors     INTEGER NOT NULL DEFAULT 0,
      created_at   ${TEXT} NOT NULL,
      cancelled_at ${TEXT}
    );
    CREATE INDEX bookings_slot ON bookings(slot_id);
    CREATE INDEX bookings_phone ON bookings(phone_hmac);
    CREATE TABLE booking_visitors (
      resource_id  ${TEXT} NOT NULL,
      day          ${TEXT} NOT NULL,
      visitor_hmac BYTEA NOT NULL,
      booking_id   ${TEXT} NOT NULL REFERENCES bookings(id),
      PRIMARY KEY (resource_id, day, visitor_hmac)
    );
    CREATE INDEX booking_visitors_booking ON booking_visitors(booking_id);
    CREATE TABLE idempotency_keys (
      key             ${TEXT} PRIMARY KEY,
      request_hmac    BYTEA NOT NULL,
      status          INTEGER,
      response        ${TEXT},
      locked_until_ms BIGINT,
      created_ms      BIGINT NOT NULL
    );
    CREATE INDEX idempotency_created ON idempotency_keys(created_ms);
  `],
  [3, `
    CREATE INDEX bookings_token ON bookings(token_sha256);
    ALTER TABLE idempotency_keys ADD COLUMN token_box BYTEA;
    -- SQLite starts the counter at the largest changed_seq stored; here there are no slots yet.
    INSERT INTO meta (key, value) VALUES ('slot_seq', '0') ON CONFLICT (key) DO NOTHING;
  `],
  [4, `
    CREATE TABLE api_keys (
      id            ${TEXT} PRIMARY KEY,
      secret_sha256 BYTEA NOT NULL UNIQUE,
      role          ${TEXT} NOT NULL CONSTRAINT api_keys_role_check CHECK (role IN ('operator', 'district', 'venue')),
      districts     ${TEXT} NOT NULL DEFAULT '',
      resources     ${TEXT} NOT NULL DEFAULT '',
      label         ${TEXT} NOT NULL DEFAULT '',
      created_at    ${TEXT} NOT NULL,
      revoked_at    ${TEXT}
    );
    CREATE TABLE audit_log (
      seq        BIGSERIAL PRIMARY KEY,
      at         ${TEXT} NOT NULL,
      key_id     ${TEXT} NOT NULL,
      key_label  ${TEXT} NOT NULL,
      action     ${TEXT} NOT NULL,
      target     ${TEXT} NOT NULL,
      detail     ${TEXT} NOT NULL DEFAULT '{}'
    );
    INSERT INTO meta (key, value) VALUES ('keys_seq', '0') ON CONFLICT (key) DO NOTHING;
  `],
  [5, `
    -- SQLite rebuilds the table to widen the CHECK; PostgreSQL changes the constraint in place.
    ALTER TABLE bookings DROP CONSTRAINT bookings_status_check,
      ADD CONSTRAINT bookings_status_check CHECK (status IN ('confirmed', 'cancelled', 'cancelled_by_venue', 'no_show'));
    ALTER TABLE bookings ADD COLUMN checked_in_at ${TEXT};
  `],
  [6, `
    CREATE TABLE booking_rules (
      resource_id         ${TEXT} PRIMARY KEY,
      window_days         INTEGER NOT NULL CONSTRAINT booking_rules_window_days_check CHECK (window_days BETWEEN 1 AND 366),
      release_minute      INTEGER NOT NULL CONSTRAINT booking_rules_release_minute_check CHECK (release_minute BETWEEN 0 AND 1439),
      real_name           INTEGER NOT NULL,
      per_contact_daily   INTEGER,
      cancel_cutoff_hours INTEGER,
      group_min           INTEGER NOT NULL,
      group_max           INTEGER NOT NULL,
      org_code_required   INTEGER NOT NULL,
      batches_per_day     INTEGER,
      no_show_limit       INTEGER,
      no_show_within_days INTEGER,
      ban_days            INTEGER,
      updated_at          ${TEXT} NOT NULL
    );
    INSERT INTO meta (key, value) VALUES ('rules_seq', '0') ON CONFLICT (key) DO NOTHING;
    ALTER TABLE bookings ADD COLUMN phone_box BYTEA;
    ALTER TABLE bookings ADD COLUMN phone_key ${TEXT};
    ALTER TABLE bookings ADD COLUMN checkin_code ${TEXT};
    ALTER TABLE bookings ADD COLUMN org_code ${TEXT};
    ALTER TABLE bookings ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
    -- SQLite gives earlier bookings a random code here; a PostgreSQL database has no earlier bookings.
    CREATE UNIQUE INDEX bookings_checkin_code ON bookings(checkin_code);
    ALTER TABLE slots ADD COLUMN closed_at ${TEXT};
    CREATE INDEX slots_end ON slots(end_ms);
    CREATE TABLE day_counters (
      resource_id ${TEXT} NOT NULL,
      day         ${TEXT} NOT NULL,
      subject     BYTEA NOT NULL,
      used        INTEGER NOT NULL DEFAULT 0 CONSTRAINT day_counters_used_check CHECK (used >= 0),
      PRIMARY KEY (resource_id, day, subject)
    );
    CREATE TABLE booking_bans (
      resource_id ${TEXT} NOT NULL,
      subject     BYTEA NOT NULL,
      until_ms    BIGINT NOT NULL,
      PRIMARY KEY (resource_id, subject)
    );
  `],
  [7, `
    CREATE TABLE waitlist (
      seq           BIGSERIAL PRIMARY KEY,
      id            ${TEXT} NOT NULL UNIQUE,
      slot_id       BIGINT NOT NULL REFERENCES slots(id),
      kind          ${TEXT} NOT NULL CONSTRAINT waitlist_kind_check CHECK (kind IN ('individual', 'group')),
      party_size    INTEGER NOT NULL CONSTRAINT waitlist_party_size_check CHECK (party_size >= 1),
      status        ${TEXT} NOT NULL CONSTRAINT waitlist_status_check CHECK (status IN ('waiting', 'promoted', 'expired', 'left')),
      reason        ${TEXT},
      token_sha256  BYTEA NOT NULL,
      seal_key      BYTEA NOT NULL,
      contact_name  ${TEXT} NOT NULL,
      phone_hmac    BYTEA NOT NULL,
      phone_masked  ${TEXT} NOT NULL,
      phone_box     BYTEA NOT NULL,
      phone_key     ${TEXT} NOT NULL,
      visitors      BYTEA NOT NULL,
      id_count      INTEGER NOT NULL DEFAULT 0,
      org_code      ${TEXT},
      booking_id    ${TEXT} REFERENCES bookings(id),
      booking_box   BYTEA,
      expires_ms    BIGINT NOT NULL,
      created_at    ${TEXT} NOT NULL,
      ended_at      ${TEXT}
    );
    CREATE INDEX waitlist_slot ON waitlist(slot_id, status, seq);
    CREATE INDEX waitlist_expiry ON waitlist(status, expires_ms);
  `],
  [8, `
    CREATE TABLE calendar_years (
      year      INTEGER PRIMARY KEY,
      file      ${TEXT} NOT NULL,
      loaded_at ${TEXT} NOT NULL
    );
  `],
  [9, `
    CREATE TABLE batches (
      id             BIGSERIAL PRIMARY KEY,
      state          ${TEXT} NOT NULL CONSTRAINT batches_state_check CHECK (state IN ('staging', 'published', 'aborted')),
      kind           ${TEXT} NOT NULL,
      queue          ${TEXT},
      published_seq  BIGINT UNIQUE,
      key_id         ${TEXT} NOT NULL,
      created_at     ${TEXT} NOT NULL,
      published_at   ${TEXT},
      lease_until_ms BIGINT,
      owner          ${TEXT},
      folded         INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX batches_one_import ON batches(queue) WHERE state = 'staging' AND queue IS NOT NULL;
    CREATE INDEX batches_unfolded ON batches(published_seq) WHERE folded = 0;
    INSERT INTO batches (id, state, kind, published_seq, key_id, created_at, published_at, folded)
      VALUES (0, 'published', 'legacy', 0, 'cli', '1970-01-01T08:00:00+08:00', '1970-01-01T08:00:00+08:00', 1);
    ALTER TABLE resources ADD COLUMN batch BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE resources ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    DROP INDEX resources_current;
    CREATE INDEX resources_live ON resources(id, seq) WHERE retired_at IS NULL;
    CREATE INDEX resources_batch ON resources(batch, seq);
    CREATE TABLE batch_listed (
      batch BIGINT NOT NULL,
      id    ${TEXT} NOT NULL,
      line  INTEGER NOT NULL,
      PRIMARY KEY (batch, id)
    );
    INSERT INTO meta (key, value) VALUES ('publish_seq', '0') ON CONFLICT (key) DO NOTHING;
    INSERT INTO meta (key, value) VALUES ('feed_horizon', '0') ON CONFLICT (key) DO NOTHING;
  `],
  [10, `
    -- UNLOGGED: a window is a minute of counts, not worth a WAL flush per request; a crash or a failover
    -- (standbys get no copy) empties the table, which only gives every client a fresh budget.
    CREATE UNLOGGED TABLE rate_windows (
      key      ${TEXT} PRIMARY KEY,
      hits     BIGINT NOT NULL,
      reset_ms BIGINT NOT NULL
    );
    CREATE INDEX rate_windows_reset ON rate_windows(reset_ms);
  `],
  [11, `
    CREATE INDEX resources_tombstones ON resources(batch, seq) WHERE deleted = 1 AND retired_at IS NULL;
  `],
  [12, `
    INSERT INTO meta (key, value) VALUES ('store_id', md5(random()::text || clock_timestamp()::text)) ON CONFLICT (key) DO NOTHING;
  `],
]);
