//! switchboard-telecmi: being written; see the issue tracker.
