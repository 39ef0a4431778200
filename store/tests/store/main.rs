//! switchboard-store's tests against real servers, in one binary: the key store on a SQLite file and
//! on a throwaway PostgreSQL cluster, the Redis rate limiter on a throwaway Redis server, and the outbox
//! on both databases. (The SIGKILL test, `outbox_crash`, is a binary of its own: it re-executes itself
//! as the workers it kills.)

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod common;
#[cfg(feature = "outbox")]
#[macro_use]
mod outbox_common;

#[cfg(all(feature = "outbox", feature = "postgres"))]
mod outbox_postgres;
#[cfg(all(feature = "outbox", feature = "sqlite"))]
mod outbox_sqlite;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
