//! switchboard-core's integration tests, in one binary: phone numbers in every written form, and SMS
//! segmentation against the GSM 03.38 and 3GPP TS 23.040 vectors.

mod phone_forms;
mod segment_vectors;
