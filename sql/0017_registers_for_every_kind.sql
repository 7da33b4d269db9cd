-- The registers behind every certificate kind, each the municipality's own
-- data keyed by its code (onboarding and CSV import will write the same
-- tables). Expand-only: new columns are nullable or defaulted, new tables
-- stand alone, and the one widened CHECK only admits more.

-- 住民基本台帳, continued -------------------------------------------------

ALTER TABLE residents
    -- 旧氏 (former surname, recorded on request) and 通称 (alias, foreign
    -- residents): printed on a seal registration certificate when recorded.
    ADD COLUMN former_surname text CHECK (former_surname <> ''),
    ADD COLUMN alias text CHECK (alias <> ''),
    -- 転入日: the day a move-in was registered (NULL: born here, or before
    -- the records); certificates are not issued at a store on that day.
    ADD COLUMN moved_in_on date,
    -- Foreign residents (外国人住民): 国籍・地域, 在留カード等の番号,
    -- 在留資格, 在留期間 and its 満了の日. All present or all absent.
    ADD COLUMN nationality text CHECK (nationality <> ''),
    ADD COLUMN residence_card_number text CHECK (residence_card_number ~ '^[A-Z]{2}[0-9]{8}[A-Z]{2}$'),
    ADD COLUMN status_of_residence text CHECK (status_of_residence <> ''),
    ADD COLUMN period_of_stay text CHECK (period_of_stay <> ''),
    ADD COLUMN period_of_stay_expires_on date,
    ADD CONSTRAINT residents_foreign_fields_together CHECK (
        (nationality IS NULL AND residence_card_number IS NULL AND status_of_residence IS NULL
             AND period_of_stay IS NULL AND period_of_stay_expires_on IS NULL)
        OR (nationality IS NOT NULL AND residence_card_number IS NOT NULL
             AND status_of_residence IS NOT NULL AND period_of_stay IS NOT NULL
             AND period_of_stay_expires_on IS NOT NULL)),
    -- 通称 is a foreign resident's; 本籍 is a Japanese national's.
    ADD CONSTRAINT residents_alias_is_foreign CHECK (alias IS NULL OR nationality IS NOT NULL),
    ADD CONSTRAINT residents_domicile_is_national CHECK (domicile IS NULL OR nationality IS NULL),
    ADD CONSTRAINT residents_moved_in_after_birth CHECK (moved_in_on IS NULL OR moved_in_on >= birth_date);

-- 'moving_out': a 転出届 is filed and the move has not happened yet.
ALTER TABLE residents DROP CONSTRAINT residents_status_check;
ALTER TABLE residents ADD CONSTRAINT residents_status_check
    CHECK (status IN ('active', 'moving_out', 'moved_out', 'deceased'));

CREATE UNIQUE INDEX residents_residence_card ON residents (residence_card_number)
    WHERE residence_card_number IS NOT NULL;

-- 印鑑登録 (seal registration) ----------------------------------------------

CREATE TABLE seal_registrations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_code text NOT NULL REFERENCES municipalities (code),
    resident_id       bigint NOT NULL REFERENCES residents (id),
    registration_no   text NOT NULL CHECK (registration_no ~ '^[0-9A-Z-]{1,20}$'),  -- 登録番号
    -- 印影: a PNG of the impression, at most 256 KiB, starting with the PNG signature.
    impression_png    bytea NOT NULL CHECK (
        octet_length(impression_png) BETWEEN 67 AND 262144
        AND substring(impression_png FROM 1 FOR 8) = '\x89504e470d0a1a0a'::bytea),
    registered_on     date NOT NULL,
    abolished_on      date CHECK (abolished_on >= registered_on),                -- 廃止
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (municipality_code, registration_no)
);
-- At most one active registration per resident.
CREATE UNIQUE INDEX seal_registrations_one_active ON seal_registrations (resident_id)
    WHERE abolished_on IS NULL;

-- 課税 (tax assessments) ------------------------------------------------------

-- The day a fiscal year's assessments become issuable (around June).
CREATE TABLE tax_year_releases (
    municipality_code text NOT NULL REFERENCES municipalities (code),
    fiscal_year       integer NOT NULL CHECK (fiscal_year BETWEEN 1989 AND 2200),  -- 年度
    released_on       date NOT NULL,
    PRIMARY KEY (municipality_code, fiscal_year)
);

-- One resident's assessment for one fiscal year (income of the year before).
CREATE TABLE tax_assessments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_code  text NOT NULL REFERENCES municipalities (code),
    resident_id        bigint NOT NULL REFERENCES residents (id),
    fiscal_year        integer NOT NULL CHECK (fiscal_year BETWEEN 1989 AND 2200),
    -- Registered here on 1 January of the fiscal year (賦課期日): only then
    -- is the certificate issued by this municipality.
    resident_on_january_1 boolean NOT NULL,
    dependants         integer NOT NULL DEFAULT 0 CHECK (dependants BETWEEN 0 AND 99),  -- 扶養人数
    taxable_income_yen bigint NOT NULL CHECK (taxable_income_yen >= 0),     -- 課税標準額
    municipal_tax_yen  bigint NOT NULL CHECK (municipal_tax_yen >= 0),      -- 市町村民税
    prefectural_tax_yen bigint NOT NULL CHECK (prefectural_tax_yen >= 0),   -- 道府県民税
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resident_id, fiscal_year)
);

-- 所得の内訳: gross receipts (収入) and income (所得) per kind.
CREATE TABLE tax_income_items (
    assessment_id bigint NOT NULL REFERENCES tax_assessments (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('salary', 'business', 'real_estate', 'interest',
                      'dividend', 'pension', 'miscellaneous', 'temporary', 'other')),
    receipts_yen  bigint NOT NULL CHECK (receipts_yen >= 0),
    income_yen    bigint NOT NULL CHECK (income_yen >= 0 AND income_yen <= receipts_yen),
    PRIMARY KEY (assessment_id, kind)
);

-- 所得控除: each deduction and its amount.
CREATE TABLE tax_deductions (
    assessment_id bigint NOT NULL REFERENCES tax_assessments (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('basic', 'social_insurance', 'life_insurance',
                      'earthquake_insurance', 'medical', 'spouse', 'spouse_special', 'dependant',
                      'disability', 'widow', 'single_parent', 'working_student', 'casualty',
                      'small_business_mutual_aid')),
    amount_yen    bigint NOT NULL CHECK (amount_yen >= 0),
    PRIMARY KEY (assessment_id, kind)
);

-- 戸籍 (family registers) -----------------------------------------------------

-- A register kept by the municipality of its 本籍. Its members may live
-- anywhere (their residence is another municipality's register).
CREATE TABLE family_registers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_code text NOT NULL REFERENCES municipalities (code),
    domicile          text NOT NULL CHECK (domicile <> ''),        -- 本籍
    head_name         text NOT NULL CHECK (head_name <> ''),       -- 筆頭者氏名
    compiled_on       date NOT NULL,                               -- 編製日
    closed_on         date CHECK (closed_on >= compiled_on),       -- 消除 (除籍簿へ)
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (municipality_code, domicile, head_name)
);

-- A person entered in a register, in register order. `resident_code` links
-- to a 住民票 when the person lives in a participating municipality.
CREATE TABLE family_register_members (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    register_id        bigint NOT NULL REFERENCES family_registers (id),
    position           integer NOT NULL CHECK (position >= 1),
    name               text NOT NULL CHECK (name <> ''),
    birth_date         date NOT NULL,
    sex                text NOT NULL CHECK (sex IN ('male', 'female')),
    father_name        text,
    mother_name        text,
    relationship       text NOT NULL CHECK (relationship <> ''),   -- 続柄: 長男, 二女, 養子 ...
    resident_code      text CHECK (resident_code ~ '^[0-9]{11}$'),
    removed            boolean NOT NULL DEFAULT false,             -- 除籍 (×): shown, marked removed
    UNIQUE (register_id, position)
);
CREATE INDEX family_register_members_resident ON family_register_members (resident_code)
    WHERE resident_code IS NOT NULL;

-- The events recorded for a member (身分事項).
CREATE TABLE family_register_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id    bigint NOT NULL REFERENCES family_register_members (id),
    kind         text NOT NULL CHECK (kind IN ('birth', 'marriage', 'divorce', 'adoption',
                     'death', 'removal', 'entry')),
    occurred_on  date NOT NULL,                                    -- 事件の日
    reported_on  date NOT NULL CHECK (reported_on >= occurred_on), -- 届出日
    detail       text NOT NULL DEFAULT '',                         -- 配偶者氏名, 送付を受けた日 ...
    UNIQUE (member_id, kind, occurred_on)
);

-- 戸籍の附票: each member's addresses while in this register.
CREATE TABLE family_register_addresses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES family_register_members (id),
    address     text NOT NULL CHECK (address <> ''),
    from_date   date NOT NULL,                                     -- 住所を定めた年月日
    to_date     date CHECK (to_date >= from_date),
    UNIQUE (member_id, from_date)
);
-- At most one current address per member.
CREATE UNIQUE INDEX family_register_addresses_current ON family_register_addresses (member_id)
    WHERE to_date IS NULL;
