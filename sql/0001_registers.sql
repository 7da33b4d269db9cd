-- Municipalities, their fees, and the resident registers they supply (住民基本台帳).

CREATE TABLE municipalities (
    code          text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),   -- 全国地方公共団体コード
    name          text NOT NULL,                                  -- e.g. みどり市
    prefecture    text NOT NULL,
    mayor_title   text NOT NULL,                                  -- e.g. みどり市長
    mayor_name    text NOT NULL,
    seal_text     text NOT NULL,                                  -- 公印の印文, e.g. みどり市長之印
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Fee per certificate kind and copy, in yen.
CREATE TABLE fees (
    municipality_code text NOT NULL REFERENCES municipalities (code),
    kind              text NOT NULL,
    amount_yen        integer NOT NULL CHECK (amount_yen >= 0),
    PRIMARY KEY (municipality_code, kind)
);

-- 世帯 (household).
CREATE TABLE households (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_code text NOT NULL REFERENCES municipalities (code),
    household_no      text NOT NULL,                              -- the municipality's own number
    address           text NOT NULL,                              -- 住所
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (municipality_code, household_no)
);

-- 住民 (resident). resident_code is the 住民票コード: stored, never printed or logged.
CREATE TABLE residents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_code       text NOT NULL UNIQUE CHECK (resident_code ~ '^[0-9]{11}$'),
    municipality_code   text NOT NULL REFERENCES municipalities (code),
    household_id        bigint NOT NULL REFERENCES households (id),
    register_order      integer NOT NULL,                         -- order within the household
    name                text NOT NULL,
    name_kana           text NOT NULL,
    birth_date          date NOT NULL,
    sex                 text NOT NULL CHECK (sex IN ('male', 'female')),
    relationship        text NOT NULL,                            -- 続柄: 世帯主, 妻, 子 ...
    is_householder      boolean NOT NULL DEFAULT false,
    became_resident_on  date NOT NULL,                            -- 住民となった年月日
    domicile            text,                                     -- 本籍
    head_of_register    text,                                     -- 筆頭者
    my_number           text CHECK (my_number ~ '^[0-9]{12}$'),  -- 個人番号
    status              text NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'moved_out', 'deceased')),
    protected           boolean NOT NULL DEFAULT false,           -- 支援措置 (DV/stalking protection)
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX residents_household ON residents (household_id, register_order);

-- Card certificate serial -> resident (the only way to find a resident from a card).
CREATE TABLE certificate_links (
    serial       bytea PRIMARY KEY CHECK (octet_length(serial) BETWEEN 1 AND 20),
    resident_id  bigint NOT NULL REFERENCES residents (id),
    linked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificate_links_resident ON certificate_links (resident_id);
