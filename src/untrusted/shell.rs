//! Fix commands a person pastes into a shell. Templates (assets/findings.yaml) are written in
//! POSIX shell; each `{name}` is filled according to where it stands (bare, inside "...", inside
//! '...', inside a JSON string inside '...', inside `$(...)`) so the pasted command runs exactly
//! the argv it shows. A value that fails its field's grammar ([`super::grammar`]) is not pasted:
//! the command gets a `<name: ...>` placeholder saying what was expected.

use std::borrow::Cow;

use super::grammar;

/// What a template's `{name}` is filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filled<'v> {
    /// A value from the cluster or Azure: checked and quoted.
    Value(Cow<'v, str>),
    /// widiag's own words for what the user must supply, shown as `<words>`.
    Placeholder(Cow<'v, str>),
    /// Shell words widiag composed, each already quoted with [`quote`]: pasted as they are.
    Words(Cow<'v, str>),
}

/// Characters a POSIX shell (and bash/zsh interactively) takes literally outside quotes.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '@' | '%' | '+' | '=' | ':' | ',' | '.' | '/' | '-')
}

/// Whether `v` needs no quoting anywhere in a command.
pub fn is_plain(v: &str) -> bool {
    !v.is_empty() && v.chars().all(plain)
}

/// POSIX single quoting: everything literal, `'` written as `'\''`.
pub fn single_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// `v` as one shell word: unchanged when plain, else single-quoted.
pub fn quote(v: &str) -> Cow<'_, str> {
    if is_plain(v) {
        Cow::Borrowed(v)
    } else {
        Cow::Owned(single_quote(v))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Bare,
    Double,
    Single,
    /// `$(...)`: quoting starts afresh.
    Sub,
}

/// Fills a fix template, quoting each value for the place it stands.
pub fn fill<'v>(template: &str, lookup: impl Fn(&str) -> Option<Filled<'v>>) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len() + 64);
    let mut stack = vec![Ctx::Bare];
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ctx = *stack.last().expect("never empty");
        if c == '{'
            && let Some(name) = placeholder_at(&template[i + 1..])
        {
            let json = ctx == Ctx::Single && out.ends_with('"');
            out.push_str(&fill_one(name, lookup(name), ctx, json));
            for _ in 0..=name.len() {
                chars.next();
            }
            continue;
        }
        out.push(c);
        match (ctx, c) {
            (Ctx::Single, '\'') => {
                stack.pop();
            }
            (Ctx::Single, _) => {}
            (Ctx::Bare | Ctx::Sub, '\'') => stack.push(Ctx::Single),
            (Ctx::Bare | Ctx::Sub, '"') => stack.push(Ctx::Double),
            (Ctx::Double, '"') => {
                stack.pop();
            }
            (_, '\\') => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            (_, '$') if chars.peek().is_some_and(|&(_, n)| n == '(') => {
                out.push('(');
                chars.next();
                stack.push(Ctx::Sub);
            }
            (Ctx::Sub, ')') => {
                stack.pop();
            }
            _ => {}
        }
    }
    out
}

/// `name` when `rest` starts with `name}` and name is a placeholder name.
fn placeholder_at(rest: &str) -> Option<&str> {
    let close = rest.find('}')?;
    let name = &rest[..close];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some(name)
}

fn fill_one(name: &str, value: Option<Filled<'_>>, ctx: Ctx, json: bool) -> String {
    let shown = || name.replace('_', "-");
    let value = match value {
        None => return format!("<{}>", shown()),
        Some(Filled::Placeholder(words)) => return format!("<{words}>"),
        Some(Filled::Words(quoted)) => return quoted.into_owned(),
        Some(Filled::Value(v)) => v,
    };
    let g = grammar::of_placeholder(name);
    if !g.accepts(&value) {
        return format!("<{}: the value found is not {}>", shown(), g.describe());
    }
    let value = if json {
        let s = serde_json::to_string(value.as_ref()).unwrap_or_default();
        Cow::Owned(s[1..s.len() - 1].to_string())
    } else {
        value
    };
    // Literal where it stands: anything but `'` inside '...'; inside "...", anything but the
    // characters double quotes still expand (and `!`, bash's history expansion).
    let literal = match ctx {
        Ctx::Single => !value.contains('\''),
        Ctx::Double => !value.contains(['$', '`', '"', '\\', '!']),
        Ctx::Bare | Ctx::Sub => is_plain(&value),
    };
    if literal {
        return value.into_owned();
    }
    match ctx {
        Ctx::Bare | Ctx::Sub => single_quote(&value),
        // Close the double quotes, put the word in single quotes, open them again.
        Ctx::Double => format!("\"{}\"", single_quote(&value)),
        // Already inside single quotes: only `'` needs writing as `'\''`.
        Ctx::Single => value.replace('\'', r"'\''"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill_with(template: &str, vars: &[(&str, &str)]) -> String {
        fill(template, |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| Filled::Value(Cow::Borrowed(*v)))
        })
    }

    #[test]
    fn plain_values_are_pasted_as_they_are() {
        assert_eq!(
            fill_with(
                "kubectl label pod {pod} -n {namespace} x=y",
                &[("pod", "web-1"), ("namespace", "apps")]
            ),
            "kubectl label pod web-1 -n apps x=y"
        );
    }

    #[test]
    fn each_context_gets_its_own_quoting() {
        let t = "az x --issuer \"{issuer}\" --audiences {audience} --p '{\"a\":\"{subject}\"}' \
                 \"$(kubectl create token {sa} --audience {audience})\"";
        let got = fill_with(
            t,
            &[
                ("issuer", "https://x.example/a$b"),
                ("audience", "api://a b"),
                ("subject", "it's \"q\""),
                ("sa", "web"),
            ],
        );
        assert_eq!(
            shlex::split(&got).unwrap(),
            [
                "az",
                "x",
                "--issuer",
                "https://x.example/a$b",
                "--audiences",
                "api://a b",
                "--p",
                r#"{"a":"it's \"q\""}"#,
                "$(kubectl create token web --audience 'api://a b')",
            ]
        );
    }

    #[test]
    fn values_that_fail_their_grammar_are_not_pasted() {
        let got = fill_with(
            "kubectl annotate sa {sa} client-id={client_id} && echo {audience}",
            &[
                ("sa", "web"),
                ("client_id", "$(touch PWNED)"),
                ("audience", "`id`;x"),
            ],
        );
        assert_eq!(
            got,
            "kubectl annotate sa web client-id=<client-id: the value found is not a GUID> && echo '`id`;x'"
        );
    }

    #[test]
    fn unknown_names_and_placeholders_are_marked() {
        let got = fill("a {tenant_id} {selector_fix}", |k| {
            (k == "selector_fix").then(|| Filled::Placeholder("label the selector needs".into()))
        });
        assert_eq!(got, "a <tenant-id> <label the selector needs>");
    }
}
