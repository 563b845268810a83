//! The process's allocator: mimalloc, set to give freed memory back to the system.
//!
//! glibc's malloc kept what the daemon's renders freed: over 3,000 distinct
//! `/feed.{atom,rss,json}?limit=1..1000` GETs (gzip, 8 clients, 50k-item store) the daemon
//! grew by 379 MiB (132 MiB with its arenas bounded to 2). With mimalloc as set here it
//! grows by 42 MiB in the same time (94.1 s and 93.8 s), and a cold poll of the benchmark
//! corpus takes 0.93x the time at the same peak (121 MiB). Unconfigured, mimalloc grew by
//! 233 MiB and doubled the poll's peak. SQLite's page caches still come from glibc; bounding
//! its arenas as well changed nothing measurable (43 MiB).
//!
//! Binary-only: the library (and so its tests) keeps the system allocator.

/// mimalloc's option `arena_eager_commit` (its `mi_option_t` number in mimalloc v3).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// mimalloc's option `purge_delay` in milliseconds (its `mi_option_t` number in v3).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs [`configure`] as the process starts, before anything allocates: mimalloc reserves
/// its first arena on the first allocation, and an arena reserved with eager commit stays
/// so (set in `main`, the option came too late: a cold poll peaked at 164 MiB, not 121).
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CONFIGURE_AT_START: extern "C" fn() = configure;

/// Sets mimalloc to commit arena memory as pages are used and to return freed pages at
/// once (its defaults commit a whole arena up front and purge after a second).
extern "C" fn configure() {
    // SAFETY: mi_option_set only stores an option's value.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}
