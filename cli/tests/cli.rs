//! The `switchboard` binary, run as a user runs it, against simulators started in this test process.
//! One test binary; the checks live in `tests/cli/`.

mod cli {
    pub mod hooks;
    pub mod run;
    pub mod send;
    pub mod store;
    pub mod text;
}
