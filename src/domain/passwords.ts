/**
 * The length rules for the two kinds of password, wherever they are set: the booth's ingest
 * password (settings API, Settings page, `photochanger rotate`) and an admin's (the account page,
 * the CLI). The forms show the same numbers the server checks.
 */

/** The booth's ingest password: typed on the booth PC, checked with argon2id and throttled. */
export const MIN_INGEST_PASSWORD = 6;

/** An admin password. */
export const MIN_ADMIN_PASSWORD = 10;
