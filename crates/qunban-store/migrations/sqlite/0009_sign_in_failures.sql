-- Failed sign-ins per login, in the database so that every instance on it
-- sees the same count (a lockout kept per process could be sidestepped by
-- spreading guesses over the instances). A row lives for one window from
-- its first failure.
CREATE TABLE sign_in_failures (
    login TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_at INTEGER NOT NULL
);
