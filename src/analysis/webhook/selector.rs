//! Label selectors as the API server evaluates a webhook's `objectSelector` and
//! `namespaceSelector` (k8s.io/apimachinery labels.Selector: matchLabels and matchExpressions,
//! all must hold; an empty selector matches everything).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether a label selector (matchLabels and matchExpressions) matches the labels `label` looks
/// up.
pub fn selector_matches<'l>(sel: &LabelSelector, label: impl Fn(&str) -> Option<&'l str>) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| label(k) == Some(v.as_str()));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|e| {
        let value = label(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
            "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// The selector as written, for evidence.
pub fn describe(sel: &LabelSelector) -> String {
    serde_json::to_string(sel).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    #[test]
    fn match_labels_and_expressions_all_hold() {
        let sel = LabelSelector {
            match_labels: Some(
                [(
                    "azure.workload.identity/use".to_string(),
                    "true".to_string(),
                )]
                .into(),
            ),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "control-plane".into(),
                operator: "NotIn".into(),
                values: Some(vec!["controller-manager".into()]),
            }]),
        };
        assert!(selector_matches(
            &sel,
            labels(&[("azure.workload.identity/use", "true")])
        ));
        assert!(!selector_matches(
            &sel,
            labels(&[("azure.workload.identity/use", "True")])
        ));
        assert!(!selector_matches(
            &sel,
            labels(&[
                ("azure.workload.identity/use", "true"),
                ("control-plane", "controller-manager")
            ])
        ));
        assert!(selector_matches(&LabelSelector::default(), labels(&[])));
    }
}
