/**
 * Numbered schema migrations, applied in order and recorded in `schema_migrations`. Append only:
 * a migration that has shipped is never edited.
 */
export interface Migration { version: number; name: string; sql: string }

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources, their terms, areas',
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
      CREATE TABLE resource_terms (
        resource INTEGER NOT NULL REFERENCES resources(seq) ON DELETE CASCADE,
        term     TEXT NOT NULL,
        PRIMARY KEY (resource, term)
      ) WITHOUT ROWID;
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
];
