/**
 * Numbered schema migrations, applied in order and recorded in `schema_migrations`. Append only:
 * a migration that has shipped is never edited.
 */
export interface Migration {
  version: number;
  name: string;
  /** The DDL for SQLite. */
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources with their terms, areas',
    sql: `
      CREATE TABLE resources (
        seq              INTEGER PRIMARY KEY,          -- one version of a resource; never reused
        id               TEXT NOT NULL,                -- the public, stable key from the CSV
        name             TEXT NOT NULL,
        name_en          TEXT,
        type             TEXT NOT NULL,
        lng              REAL NOT NULL,                -- WGS-84
        lat              REAL NOT NULL,
        district         TEXT NOT NULL,                -- adcode
        terms            TEXT NOT NULL,                -- '|'-joined taxonomy term ids (the resource's tags)
        stages           TEXT NOT NULL,                -- '|'-joined stage ids
        opening_hours    TEXT,                         -- OSM syntax
        free             INTEGER,                      -- 1 / 0 / NULL unknown
        booking_required INTEGER,
        doc              TEXT NOT NULL,                -- the answer's JSON without location and updated_at;
                                                       -- equal docs and points mean an unchanged row
        updated_at       TEXT NOT NULL,
        retired_at       TEXT                          -- set when a newer version replaces this one
      );
      -- A row is never changed in place: an update retires the current version and inserts the next, so a
      -- snapshot built earlier still reads the records it indexed. Retired versions are purged after a grace.
      CREATE UNIQUE INDEX resources_current ON resources(id) WHERE retired_at IS NULL;
      CREATE INDEX resources_retired ON resources(retired_at) WHERE retired_at IS NOT NULL;
      CREATE TABLE areas (
        id         TEXT PRIMARY KEY,                   -- adcode, or a school-district id
        kind       TEXT NOT NULL CHECK (kind IN ('district', 'school_district')),
        name       TEXT NOT NULL,
        parent_id  TEXT,
        geometry   TEXT NOT NULL,                      -- GeoJSON geometry, WGS-84
        properties TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL
      );
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'booking: slots, bookings, visitors, idempotency keys',
    sql: `
      CREATE TABLE slots (
        id                  INTEGER PRIMARY KEY,
        resource_id         TEXT NOT NULL,             -- the resource's public id (stable across its versions)
        start_ms            INTEGER NOT NULL,          -- epoch ms
        end_ms              INTEGER NOT NULL,
        capacity_individual INTEGER NOT NULL CHECK (capacity_individual >= 0),
        capacity_group      INTEGER NOT NULL CHECK (capacity_group >= 0),
        -- The CHECKs are the last line against over-booking; the taking UPDATE tests capacity itself.
        taken_individual    INTEGER NOT NULL DEFAULT 0 CHECK (taken_individual BETWEEN 0 AND capacity_individual),
        taken_group         INTEGER NOT NULL DEFAULT 0 CHECK (taken_group BETWEEN 0 AND capacity_group),
        group_min           INTEGER NOT NULL CHECK (group_min >= 1),
        group_max           INTEGER NOT NULL CHECK (group_max >= group_min),
        changed_seq         INTEGER NOT NULL,          -- bumped by every write; caches refresh what moved past theirs
        created_at          TEXT NOT NULL,
        CHECK (end_ms > start_ms)
      );
      CREATE INDEX slots_resource_start ON slots(resource_id, start_ms);
      CREATE INDEX slots_changed ON slots(changed_seq);
      CREATE TABLE bookings (
        id           TEXT PRIMARY KEY,
        slot_id      INTEGER NOT NULL REFERENCES slots(id),
        kind         TEXT NOT NULL CHECK (kind IN ('individual', 'group')),
        party_size   INTEGER NOT NULL CHECK (party_size >= 1),
        status       TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
        token_sha256 BLOB NOT NULL,                    -- the bearer token itself is never stored
        contact_name TEXT NOT NULL,
        phone_hmac   BLOB NOT NULL,                    -- keyed hash for lookups; the number is never stored
        phone_masked TEXT NOT NULL,                    -- 138****5678
        visitors     INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        cancelled_at TEXT
      ) WITHOUT ROWID;
      CREATE INDEX bookings_slot ON bookings(slot_id);
      CREATE INDEX bookings_phone ON bookings(phone_hmac);
      -- One booking per visitor per resource per day (Asia/Shanghai), held by the primary key across processes.
      -- Rows of a cancelled booking are deleted, so the visitor may book again.
      CREATE TABLE booking_visitors (
        resource_id  TEXT NOT NULL,
        day          TEXT NOT NULL,                    -- YYYY-MM-DD of the slot's start, Asia/Shanghai
        visitor_hmac BLOB NOT NULL,                    -- keyed hash of the ID number; the number is never stored
        booking_id   TEXT NOT NULL REFERENCES bookings(id),
        PRIMARY KEY (resource_id, day, visitor_hmac)
      ) WITHOUT ROWID;
      CREATE INDEX booking_visitors_booking ON booking_visitors(booking_id);
      CREATE TABLE idempotency_keys (
        key             TEXT PRIMARY KEY,              -- the client's Idempotency-Key
        request_hmac    BLOB NOT NULL,                 -- keyed hash of the canonical request body
        status          INTEGER,                       -- HTTP status of the first answer; NULL while in progress
        response        TEXT,                          -- the first answer (a booking's token is never stored)
        locked_until_ms INTEGER,                       -- an in-progress claim older than this was abandoned
        created_ms      INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX idempotency_created ON idempotency_keys(created_ms);
    `,
  },
  {
    version: 3,
    name: 'booking tokens are random: looked up by digest; a replay carries its token sealed under the Idempotency-Key',
    sql: `
      -- A bearer token is looked up by its SHA-256 (rate limits count a request against a valid token only).
      CREATE INDEX bookings_token ON bookings(token_sha256);
      -- The random token of the booking an Idempotency-Key created, sealed (AES-256-GCM) under a key derived
      -- from the Idempotency-Key and the request itself, so that only a client replaying that request can
      -- read it back. Purged with the key after 24 h.
      ALTER TABLE idempotency_keys ADD COLUMN token_box BLOB;
      -- Slot changes are numbered by one counter row that each changing transaction increments first: it
      -- holds that row until it commits, so the numbers commit in order and a cache reading "changed after
      -- n" never misses a change that committed late with a smaller number.
      INSERT INTO meta (key, value) SELECT 'slot_seq', CAST(coalesce(max(changed_seq), 0) AS TEXT) FROM slots WHERE true
        ON CONFLICT (key) DO NOTHING;
    `,
  },
  {
    version: 4,
    name: 'keys with roles and scopes, and the audit log',
    sql: `
      CREATE TABLE api_keys (
        id            TEXT PRIMARY KEY,                -- public id (k_…), listed and named in the audit log
        secret_sha256 BLOB NOT NULL UNIQUE,            -- the key itself is printed once and never stored
        role          TEXT NOT NULL CHECK (role IN ('operator', 'district', 'venue')),
        districts     TEXT NOT NULL DEFAULT '',        -- '|'-joined adcodes (district keys)
        resources     TEXT NOT NULL DEFAULT '',        -- '|'-joined resource ids (venue keys)
        label         TEXT NOT NULL DEFAULT '',
        created_at    TEXT NOT NULL,
        revoked_at    TEXT
      );
      -- Every write by a key: who, what, when, which target; never personal data.
      CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        key_id     TEXT NOT NULL,
        key_label  TEXT NOT NULL,
        action     TEXT NOT NULL,
        target     TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT '{}'
      );
      -- Keys change rarely; servers compare this counter to know when their cached keys are stale.
      INSERT INTO meta (key, value) VALUES ('keys_seq', '0') ON CONFLICT (key) DO NOTHING;
    `,
  },
  {
    version: 5,
    name: 'bookings: cancelled by the venue, no-shows, check-in',
    sql: `
      -- SQLite cannot change a CHECK in place: the table is rebuilt with the wider set of statuses. The
      -- visitors' rows reference it, so they are set aside first (no dangling reference at any point).
      CREATE TABLE visitors_kept AS SELECT resource_id, day, visitor_hmac, booking_id FROM booking_visitors;
      DROP TABLE booking_visitors;
      CREATE TABLE bookings_next (
        id            TEXT PRIMARY KEY,
        slot_id       INTEGER NOT NULL REFERENCES slots(id),
        kind          TEXT NOT NULL CHECK (kind IN ('individual', 'group')),
        party_size    INTEGER NOT NULL CHECK (party_size >= 1),
        status        TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'cancelled_by_venue', 'no_show')),
        token_sha256  BLOB NOT NULL,
        contact_name  TEXT NOT NULL,
        phone_hmac    BLOB NOT NULL,
        phone_masked  TEXT NOT NULL,
        visitors      INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        cancelled_at  TEXT,
        checked_in_at TEXT
      ) WITHOUT ROWID;
      INSERT INTO bookings_next (id, slot_id, kind, party_size, status, token_sha256, contact_name, phone_hmac,
          phone_masked, visitors, created_at, cancelled_at)
        SELECT id, slot_id, kind, party_size, status, token_sha256, contact_name, phone_hmac, phone_masked,
          visitors, created_at, cancelled_at FROM bookings;
      DROP TABLE bookings;
      ALTER TABLE bookings_next RENAME TO bookings;
      CREATE INDEX bookings_slot ON bookings(slot_id);
      CREATE INDEX bookings_phone ON bookings(phone_hmac);
      CREATE INDEX bookings_token ON bookings(token_sha256);
      CREATE TABLE booking_visitors (
        resource_id  TEXT NOT NULL,
        day          TEXT NOT NULL,
        visitor_hmac BLOB NOT NULL,
        booking_id   TEXT NOT NULL REFERENCES bookings(id),
        PRIMARY KEY (resource_id, day, visitor_hmac)
      ) WITHOUT ROWID;
      CREATE INDEX booking_visitors_booking ON booking_visitors(booking_id);
      INSERT INTO booking_visitors SELECT resource_id, day, visitor_hmac, booking_id FROM visitors_kept;
      DROP TABLE visitors_kept;
    `,
  },
  {
    version: 6,
    name: 'venues: booking rules, encrypted phones, check-in codes, per-day counters, bans, closed slots',
    sql: `
      -- A venue's own booking rules (DESIGN, "Booking, venue side"); a resource without a row keeps the
      -- service's defaults (a 7-day window released at midnight, no real name, no caps, no no-show counting).
      CREATE TABLE booking_rules (
        resource_id         TEXT PRIMARY KEY,
        window_days         INTEGER NOT NULL CHECK (window_days BETWEEN 1 AND 366),
        release_minute      INTEGER NOT NULL CHECK (release_minute BETWEEN 0 AND 1439), -- minutes after midnight, Asia/Shanghai
        real_name           INTEGER NOT NULL,
        per_contact_daily   INTEGER,                   -- people per contact phone per day; NULL: no cap
        cancel_cutoff_hours INTEGER,                   -- NULL: the service's EDUMAP_CANCEL_CUTOFF_HOURS
        group_min           INTEGER NOT NULL,
        group_max           INTEGER NOT NULL,
        org_code_required   INTEGER NOT NULL,
        batches_per_day     INTEGER,                   -- group bookings per day; NULL: no cap
        no_show_limit       INTEGER,                   -- NULL: no-shows are not counted against anyone
        no_show_within_days INTEGER,
        ban_days            INTEGER,
        updated_at          TEXT NOT NULL
      ) WITHOUT ROWID;
      -- Bumped by every change of booking_rules, so that each process knows when its copy is stale.
      INSERT INTO meta (key, value) VALUES ('rules_seq', '0') ON CONFLICT (key) DO NOTHING;
      -- The phone, encrypted (AES-256-GCM under EDUMAP_DATA_KEY, the key's id beside it for rotation), for a
      -- venue that must call the family back; the HMAC stays for lookups. Bookings made before have none.
      ALTER TABLE bookings ADD COLUMN phone_box BLOB;
      ALTER TABLE bookings ADD COLUMN phone_key TEXT;
      ALTER TABLE bookings ADD COLUMN checkin_code TEXT;
      ALTER TABLE bookings ADD COLUMN org_code TEXT;
      -- Which per-day counters this booking holds places of (1: its contact's, 2: its resource's group batches).
      ALTER TABLE bookings ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
      -- Earlier bookings get a code too: 64 random bits, so the unique index cannot meet a collision here.
      UPDATE bookings SET checkin_code = upper(hex(randomblob(8))) WHERE checkin_code IS NULL;
      CREATE UNIQUE INDEX bookings_checkin_code ON bookings(checkin_code);
      -- A slot closed by its venue (DELETE /v1/slots/{id}): its capacity is set to 0 as well.
      ALTER TABLE slots ADD COLUMN closed_at TEXT;
      CREATE INDEX slots_end ON slots(end_ms);
      -- Per resource and day counters taken by one conditional UPDATE each: the people a contact phone booked
      -- (subject: the phone's HMAC) and the group batches (subject: 'group').
      CREATE TABLE day_counters (
        resource_id TEXT NOT NULL,
        day         TEXT NOT NULL,
        subject     BLOB NOT NULL,
        used        INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
        PRIMARY KEY (resource_id, day, subject)
      ) WITHOUT ROWID;
      -- Who may not book at a resource until when: a visitor's or a phone's HMAC, never the number.
      CREATE TABLE booking_bans (
        resource_id TEXT NOT NULL,
        subject     BLOB NOT NULL,
        until_ms    INTEGER NOT NULL,
        PRIMARY KEY (resource_id, subject)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'the waitlist (候补)',
    sql: `
      CREATE TABLE waitlist (
        seq           INTEGER PRIMARY KEY,             -- the order of joining: promotions go by it
        id            TEXT NOT NULL UNIQUE,
        slot_id       INTEGER NOT NULL REFERENCES slots(id),
        kind          TEXT NOT NULL CHECK (kind IN ('individual', 'group')),
        party_size    INTEGER NOT NULL CHECK (party_size >= 1),
        status        TEXT NOT NULL CHECK (status IN ('waiting', 'promoted', 'expired', 'left')),
        reason        TEXT,                            -- why an entry ended without a booking
        token_sha256  BLOB NOT NULL,
        seal_key      BLOB NOT NULL,                   -- X25519 public key derived from the entry's token
        contact_name  TEXT NOT NULL,
        phone_hmac    BLOB NOT NULL,
        phone_masked  TEXT NOT NULL,
        phone_box     BLOB NOT NULL,
        phone_key     TEXT NOT NULL,
        visitors      BLOB NOT NULL,                   -- the visitors' HMACs, 32 bytes each, concatenated
        id_count      INTEGER NOT NULL DEFAULT 0,
        org_code      TEXT,
        booking_id    TEXT REFERENCES bookings(id),
        booking_box   BLOB,                            -- the promoted booking's token, sealed to seal_key
        expires_ms    INTEGER NOT NULL,                -- the slot's cancellation cut-off
        created_at    TEXT NOT NULL,
        ended_at      TEXT
      );
      CREATE INDEX waitlist_slot ON waitlist(slot_id, status, seq);
      CREATE INDEX waitlist_expiry ON waitlist(status, expires_ms);
    `,
  },
  {
    version: 8,
    name: "calendar years loaded by operators (China's public holidays and make-up working days)",
    sql: `
      -- One announced year per row, as the operator loaded it; it replaces the package's data for that year.
      CREATE TABLE calendar_years (
        year      INTEGER PRIMARY KEY,
        file      TEXT NOT NULL,                       -- the year file as JSON, validated when loaded
        loaded_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'resources are published in batches: staged in short transactions, visible all at once',
    sql: `
      -- A batch is one write of resources (an import, a sync, a single edit). Its versions are written while
      -- it is 'staging' and become visible together when it is 'published' (one short transaction); an
      -- 'aborted' batch (strict refusal, a crash: its lease ran out) is never visible and is cleaned up.
      CREATE TABLE batches (
        id             INTEGER PRIMARY KEY,
        state          TEXT NOT NULL CHECK (state IN ('staging', 'published', 'aborted')),
        kind           TEXT NOT NULL,                  -- import | sync | edit | delete | legacy
        queue          TEXT,                           -- 'import' for imports: one stages at a time
        published_seq  INTEGER UNIQUE,                 -- commit order of published batches
        key_id         TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        published_at   TEXT,
        lease_until_ms INTEGER,                        -- a staging batch past its lease was abandoned
        owner          TEXT,                           -- host:pid of the process staging it
        folded         INTEGER NOT NULL DEFAULT 0      -- 1 once the versions it replaced are marked retired
      );
      CREATE UNIQUE INDEX batches_one_import ON batches(queue) WHERE state = 'staging' AND queue IS NOT NULL;
      CREATE INDEX batches_unfolded ON batches(published_seq) WHERE folded = 0;
      -- Everything stored so far is one published, folded batch.
      INSERT INTO batches (id, state, kind, published_seq, key_id, created_at, published_at, folded)
        VALUES (0, 'published', 'legacy', 0, 'cli', '1970-01-01T08:00:00+08:00', '1970-01-01T08:00:00+08:00', 1);
      ALTER TABLE resources ADD COLUMN batch INTEGER NOT NULL DEFAULT 0;
      -- A tombstone: the resource was deleted by this version's batch.
      ALTER TABLE resources ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
      -- Until a published batch is folded, an id may have two unretired visible versions: the one of the
      -- batch published last wins. So the current-version index is no longer unique.
      DROP INDEX resources_current;
      CREATE INDEX resources_live ON resources(id, seq) WHERE retired_at IS NULL;
      CREATE INDEX resources_batch ON resources(batch, seq);
      -- The ids an import lists (duplicates are refused; a sync deletes the in-scope ids it does not list).
      CREATE TABLE batch_listed (
        batch INTEGER NOT NULL,
        id    TEXT NOT NULL,
        line  INTEGER NOT NULL,
        PRIMARY KEY (batch, id)
      ) WITHOUT ROWID;
      INSERT INTO meta (key, value) VALUES ('publish_seq', '0') ON CONFLICT (key) DO NOTHING;
      INSERT INTO meta (key, value) VALUES ('feed_horizon', '0') ON CONFLICT (key) DO NOTHING;
    `,
  },
  {
    version: 10,
    name: 'request budgets shared by every process of a store (rate limits across replicas)',
    sql: `
      -- One fixed window per client bucket ('search:ip:…', 'booking:key:…'): the hits counted in it and
      -- when it ends (epoch ms). A request counts by one upsert; ended windows are swept once a minute.
      CREATE TABLE rate_windows (
        key      TEXT PRIMARY KEY,
        hits     INTEGER NOT NULL,
        reset_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX rate_windows_reset ON rate_windows(reset_ms);
    `,
  },
  {
    version: 11,
    name: 'tombstones found by index (the purge held the write lock for a scan of every version)',
    sql: `
      CREATE INDEX resources_tombstones ON resources(batch, seq) WHERE deleted = 1 AND retired_at IS NULL;
    `,
  },
  {
    version: 12,
    name: 'a store identity (a saved snapshot is loaded only into the store it was made from)',
    sql: `
      INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16)))) ON CONFLICT (key) DO NOTHING;
    `,
  },
];
