//! The lab's reading of a resource's network rules for a caller that stands for a pod: the lab
//! answers from 127.0.0.1, so an IP rule for 127.x admits it, and an approved private endpoint
//! admits it too (the lab plays a pod in the endpoint's virtual network, whose DNS answers with
//! the endpoint). A network security perimeter admits public traffic only by its access rules,
//! which no world holds, so `SecuredByPerimeter` admits no public caller.

/// Whether the caller is refused before any authorization: public access disabled or left to a
/// perimeter, or a default-deny firewall with no rule for the caller, and no private endpoint.
pub fn shut(acls_deny: bool, public: Option<&str>, private_endpoints: &[String]) -> bool {
    let public_closed = public.is_some_and(|p| {
        p.eq_ignore_ascii_case("Disabled") || p.eq_ignore_ascii_case("SecuredByPerimeter")
    });
    (acls_deny || public_closed) && private_endpoints.is_empty()
}
