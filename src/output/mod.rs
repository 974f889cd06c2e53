//! Front ends that only render a [`crate::analysis::Report`]; they decide nothing.

pub mod json;
pub mod text;
