//! ABAC conditions on role assignments, as far as widiag evaluates them: the form Microsoft
//! documents for Storage ("read blobs only in a named container", learn.microsoft.com/azure/
//! role-based-access-control/conditions-format and storage's condition examples):
//!
//! ```text
//! ((!(ActionMatches{'<action>'}) [AND !(ActionMatches{'<action>'})]*)
//!  OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals '<name>'))
//! ```
//!
//! An operation the condition does not name is not restricted; one it names is allowed only in
//! that container. Anything else is not evaluated: the caller says so instead of guessing.

/// What a condition does to one operation on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The condition does not restrict this operation, or allows it here.
    Allows,
    /// It restricts this operation to another container.
    Denies { container: String },
    /// A form widiag does not evaluate, or the target container is not known.
    Unknown,
}

const CONTAINER_NAME: &str =
    "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]";

/// `condition` applied to `operation` on `container` (None: the account as a whole).
pub fn evaluate(condition: &str, operation: &str, container: Option<&str>) -> Outcome {
    let Some((actions, (ignore_case, allowed))) = container_form(condition) else {
        return Outcome::Unknown;
    };
    if !actions.iter().any(|a| a.eq_ignore_ascii_case(operation)) {
        return Outcome::Allows;
    }
    match container {
        Some(c) if same(c, &allowed, ignore_case) => Outcome::Allows,
        Some(_) => Outcome::Denies { container: allowed },
        None => Outcome::Unknown,
    }
}

fn same(a: &str, b: &str, ignore_case: bool) -> bool {
    if ignore_case {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The actions a container-name condition restricts, and the container it allows (with whether
/// the comparison ignores case); None for any other form.
fn container_form(condition: &str) -> Option<(Vec<String>, (bool, String))> {
    // Whitespace separates tokens only; no token of this form holds any.
    let c: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
    let body = c.strip_prefix("((")?.strip_suffix("))")?;
    let (negations, rest) = body.split_once(")OR(")?;
    let (operator, value) = rest.strip_prefix(CONTAINER_NAME)?.split_once('\'')?;
    let ignore_case = match operator {
        "StringEquals" => false,
        "StringEqualsIgnoreCase" => true,
        _ => return None,
    };
    let allowed = value.strip_suffix('\'')?;
    if allowed.contains('\'') {
        return None;
    }
    let mut actions = Vec::new();
    for atom in negations.split("AND") {
        let action = atom
            .strip_prefix("!(ActionMatches{'")?
            .strip_suffix("'})")?;
        if action.contains('\'') {
            return None;
        }
        actions.push(action.to_string());
    }
    Some((actions, (ignore_case, allowed.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";

    /// Microsoft's example: "Read access to blobs in a named container".
    const ONLY_CATS: &str = "(\n (\n  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})\n )\n OR \n (\n  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'cats'\n )\n)";

    #[test]
    fn the_documented_container_condition_is_evaluated() {
        assert_eq!(evaluate(ONLY_CATS, READ, Some("cats")), Outcome::Allows);
        assert_eq!(
            evaluate(ONLY_CATS, READ, Some("dogs")),
            Outcome::Denies {
                container: "cats".into()
            }
        );
        assert_eq!(
            evaluate(ONLY_CATS, READ, Some("Cats")),
            Outcome::Denies {
                container: "cats".into()
            }
        );
        assert_eq!(evaluate(ONLY_CATS, READ, None), Outcome::Unknown);
        // Another operation is not restricted by it.
        let write = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";
        assert_eq!(evaluate(ONLY_CATS, write, Some("dogs")), Outcome::Allows);
    }

    #[test]
    fn other_forms_are_not_guessed() {
        for c in [
            "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike 'logs/*'",
            "((!(ActionMatches{'a'} AND SubOperationMatches{'Blob.List'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'x'))",
            "((!(ActionMatches{'a'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals 'x'))",
            "",
        ] {
            assert_eq!(evaluate(c, READ, Some("x")), Outcome::Unknown, "{c}");
        }
    }
}
