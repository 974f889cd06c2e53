//! The trust boundary (docs/security.md): text that anyone who can create a pod, a
//! ServiceAccount or an Azure object controls, made safe for the places widiag puts it.
//!
//! - [`visible`]: no control character, escape sequence or bidi override reaches a terminal or a
//!   document; a value cannot start a new output line.
//! - [`shell`]: values in fix commands are quoted (or refused) so a pasted fix runs the argv it
//!   shows and nothing else.
//! - [`grammar`]: the strict shape of each named value (Kubernetes names, GUIDs, ARM ids, URLs,
//!   Azure resource names), with the rule each comes from.
//! - [`secrets`]: secret-shaped values (connection strings, SAS, JWTs, keys) found by value, not
//!   only by the variable's name.
//! - [`destinations`]: where a token may be sent.
//!
//! Pure functions of strings: no I/O, usable by the core and by every front end.

pub mod destinations;
pub mod grammar;
pub mod secrets;
pub mod shell;
pub mod visible;
