//! The finding catalogue (assets/findings.yaml): codes, severities, titles, explanations and fix
//! templates, kept as data. Severities can be overridden per code.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;

use super::chain::{Link, Severity};

const CATALOG_YAML: &str = include_str!("../../assets/findings.yaml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: Arc<str>,
    pub link: Link,
    pub severity: Severity,
    pub title: Arc<str>,
    pub explain: Arc<str>,
    pub fix: Fix,
    #[serde(rename = "ref")]
    pub reference: String,
    /// Whether tests/fix_verify.rs makes this fix on the lab and sees the link pass:
    /// `end to end`, or why not; absent when no embedded world raises it as a failing finding.
    /// That test keeps this field true.
    #[serde(default)]
    pub verified: Option<String>,
}

/// One template, or variants chosen by the situation (`workload` / `pod`, `identity` / `application`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Fix {
    One(String),
    Variants(BTreeMap<String, String>),
}

#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_code: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("finding catalogue: {0}")]
    Parse(String),
    #[error("unknown finding code `{0}` (see `widiag codes`)")]
    UnknownCode(String),
    #[error("`{0}`: expected CODE=LEVEL with LEVEL one of error, warning, unknown, info")]
    BadOverride(String),
}

impl Catalog {
    /// The catalogue shipped in assets/.
    pub fn builtin() -> Catalog {
        Self::from_yaml(CATALOG_YAML).expect("assets/findings.yaml is validated by tests")
    }

    pub fn from_yaml(text: &str) -> Result<Catalog, CatalogError> {
        let entries: Vec<Entry> =
            serde_saphyr::from_str(text).map_err(|e| CatalogError::Parse(e.to_string()))?;
        let by_code = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.code.to_string(), i))
            .collect();
        Ok(Catalog { entries, by_code })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, code: &str) -> Option<&Entry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    pub fn set_severity(&mut self, code: &str, severity: Severity) -> Result<(), CatalogError> {
        let i = *self
            .by_code
            .get(code)
            .ok_or_else(|| CatalogError::UnknownCode(code.into()))?;
        self.entries[i].severity = severity;
        Ok(())
    }

    /// Applies `CODE=LEVEL` overrides.
    pub fn apply_overrides<'a>(
        &mut self,
        overrides: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), CatalogError> {
        for o in overrides {
            let (code, level) = o
                .split_once('=')
                .ok_or_else(|| CatalogError::BadOverride(o.into()))?;
            let severity =
                Severity::parse(level.trim()).ok_or_else(|| CatalogError::BadOverride(o.into()))?;
            self.set_severity(code.trim(), severity)?;
        }
        Ok(())
    }
}

/// Fills `{name}` placeholders; an unknown name becomes `<name>` for the user to fill.
pub fn render_template(template: &str, vars: &BTreeMap<String, String>) -> String {
    render_with(template, |k| vars.get(k).map(|v| Cow::Borrowed(v.as_str())))
}

/// As [`render_template`], looking names up with `lookup`.
pub fn render_with<'v>(template: &str, lookup: impl Fn(&str) -> Option<Cow<'v, str>>) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    // Room for the typical value (a GUID, a name, an issuer URL) in each placeholder: one
    // allocation instead of a string regrown several times, for every finding of every pod.
    let holes = template.bytes().filter(|&b| b == b'{').count();
    let mut out = String::with_capacity(template.len() + holes * 48);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_var_name(&after[..close]) => {
                let name = &after[..close];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&format!("<{}>", name.replace('_', "-"))),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_var_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_consistent() {
        let c = Catalog::builtin();
        assert!(c.entries().len() > 50);
        let mut seen = std::collections::HashSet::new();
        for e in c.entries() {
            assert!(seen.insert(&e.code), "duplicate {}", e.code);
            assert!(e.code.starts_with("WI"), "{}", e.code);
            assert!(!e.title.is_empty() && !e.explain.is_empty());
        }
    }

    #[test]
    fn templates_fill_known_and_mark_unknown_names() {
        let vars = BTreeMap::from([("sa".to_string(), "web".to_string())]);
        assert_eq!(
            render_template(
                "kubectl annotate sa {sa} x={client_id} -p '{\"a\":1}'",
                &vars
            ),
            "kubectl annotate sa web x=<client-id> -p '{\"a\":1}'"
        );
    }

    #[test]
    fn overrides_change_severity_and_reject_garbage() {
        let mut c = Catalog::builtin();
        c.apply_overrides(["WI806=info"]).unwrap();
        assert_eq!(c.get("WI806").unwrap().severity, Severity::Info);
        assert!(c.apply_overrides(["WI999=info"]).is_err());
        assert!(c.apply_overrides(["WI806=loud"]).is_err());
    }
}
