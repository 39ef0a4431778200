//! switchboard-dinstar: being written; see the issue tracker.
