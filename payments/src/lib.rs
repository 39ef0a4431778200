//! switchboard-payments: being written; see the issue tracker.
