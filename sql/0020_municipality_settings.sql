-- Municipalities that run themselves (src/gateway/municipality): every
-- settings change is a new version, each order names the version in force
-- at its acceptance, and a municipality serves its residents only once it
-- has gone live. Expand-only: new columns are nullable, the new table
-- stands alone.

-- One row per version of a municipality's settings (the whole document:
-- names, mayor, seal, fees, hours, closed days, maintenance, policies).
CREATE TABLE municipality_settings (
    municipality_code text NOT NULL REFERENCES municipalities (code),
    version           integer NOT NULL CHECK (version >= 1),
    settings          jsonb NOT NULL,
    changed_by        text NOT NULL,          -- the operator certificate's subject
    changed_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality_code, version)
);

-- settings_version: the current version (the columns and `fees` say what
-- it says). live_at: when it went live; NULL until the onboarding check
-- passes and an operator takes it live.
ALTER TABLE municipalities
    ADD COLUMN settings_version integer,
    ADD COLUMN live_at timestamptz;

-- The municipalities already here were in service: version 1 is what their
-- columns and fees said, and they are live.
INSERT INTO municipality_settings (municipality_code, version, settings, changed_by)
SELECT m.code, 1,
       jsonb_build_object(
           'name', m.name, 'prefecture', m.prefecture, 'mayor_title', m.mayor_title,
           'mayor_name', m.mayor_name, 'seal_text', m.seal_text,
           'fees', coalesce((SELECT jsonb_object_agg(f.kind, f.amount_yen) FROM fees f
                              WHERE f.municipality_code = m.code), '{}'::jsonb),
           'closed_days', '[{"from": "12-29", "to": "01-03"}]'::jsonb),
       'migration 0020'
  FROM municipalities m;
UPDATE municipalities SET settings_version = 1, live_at = now();

-- The settings version an order was accepted under.
ALTER TABLE orders ADD COLUMN settings_version integer;
