//! switchboard-mitto: being written; see the issue tracker.
