//! switchboard-mightycall: being written; see the issue tracker.
