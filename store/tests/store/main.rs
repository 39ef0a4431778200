//! switchboard-store's tests against real servers, in one binary: the key store on a SQLite file and
//! on a throwaway PostgreSQL cluster, the Redis rate limiter on a throwaway Redis server, and the outbox
//! on both databases, and worker processes killed with SIGKILL (`outbox_crash`, which re-executes this
//! binary as the workers it kills).

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod common;
#[cfg(feature = "outbox")]
#[macro_use]
mod outbox_common;

#[cfg(all(feature = "outbox", feature = "sqlite", feature = "postgres"))]
mod outbox_crash;
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
