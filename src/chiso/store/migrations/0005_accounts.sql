-- Accounts of the web service (tài khoản): people who log in to `chiso serve` and machine clients with API tokens.
-- role: admin (everything) | unit (its unit and the units below it) | viewer (aggregates of every unit, no
-- dossier-level data). Only hashes are stored: Argon2 for passwords, SHA-256 for API tokens (random 256-bit).
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    unit_code     TEXT,
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    created_by    TEXT
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked    BOOLEAN NOT NULL
);

-- Failed logins of the last minutes (throttling: too many per name or per address → refused for a while).
CREATE TABLE login_failures (
    user_name TEXT NOT NULL,
    address   TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
