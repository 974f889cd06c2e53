//! The report as every output form receives it: each string that came from the cluster, Azure
//! or a world passed through one function, exhaustively (a new field is a compile error here).
//! Machine forms (JSON) get secrets redacted; human forms (text, Markdown, HTML, JUnit, SARIF,
//! the clipboard) also get every control character made visible (src/untrusted).
//!
//! Fixes are the exception: their values were redacted before they were quoted
//! (`analysis::links`), and redacting the finished command would cut through its quotes (a
//! `password='...'` inside a quoted word would end the quoting and run what follows). A fix is
//! only made visible here, and for machines left as it is.

use std::borrow::Cow;
use std::sync::Arc;

use crate::analysis::unused::{Step, Unused};
use crate::analysis::{Evidence, Finding, LinkResult, PodChain, Report, Workload};
use crate::untrusted::{secrets, visible};
use crate::world::ObjRef;
use crate::world::live::Gap;

/// Secrets redacted, control characters made visible: for anything a person reads.
pub fn for_people(report: &Report) -> Report {
    let maps = Maps {
        text: &text,
        fix: &|s| visible::visible(s).into_owned(),
    };
    mapped(report, &maps)
}

/// Secrets redacted, characters kept (JSON escapes them): for machine forms.
pub fn for_machines(report: &Report) -> Report {
    let maps = Maps {
        text: &|s| secrets::redact(s).into_owned(),
        fix: &str::to_string,
    };
    mapped(report, &maps)
}

/// One untrusted string as a person may read it.
pub fn text(s: &str) -> String {
    visible::visible(&secrets::redact(s)).into_owned()
}

type Map<'f> = &'f dyn Fn(&str) -> String;

/// What every string becomes, and what a fix becomes.
struct Maps<'f> {
    text: Map<'f>,
    fix: Map<'f>,
}

fn mapped(r: &Report, maps: &Maps<'_>) -> Report {
    let f = maps.text;
    let Report {
        schema,
        as_of,
        pods,
        not_using,
        ignored,
        gaps,
    } = r;
    Report {
        schema,
        as_of: f(as_of),
        pods: pods.iter().map(|p| pod(p, maps)).collect(),
        not_using: not_using.iter().map(|u| unused(u, maps)).collect(),
        ignored: ignored
            .iter()
            .map(|i| crate::world::Ignored {
                file: f(&i.file),
                document: i.document,
                kind: f(&i.kind),
                name: f(&i.name),
            })
            .collect(),
        gaps: gaps.iter().map(|g| gap(g, f)).collect(),
    }
}

fn obj(o: &ObjRef, f: Map<'_>) -> ObjRef {
    ObjRef::new(f(&o.namespace), f(&o.name))
}

pub(crate) fn gap(g: &Gap, f: Map<'_>) -> Gap {
    let Gap {
        resource,
        namespace,
        needed,
        error,
    } = g;
    Gap {
        resource: f(resource),
        namespace: namespace.as_deref().map(f),
        needed: f(needed),
        error: f(error),
    }
}

fn pod(p: &PodChain, maps: &Maps<'_>) -> PodChain {
    let f = maps.text;
    let PodChain {
        pod,
        template_only,
        workload,
        service_account,
        client_id,
        identity,
        links,
    } = p;
    PodChain {
        pod: obj(pod, f),
        template_only: *template_only,
        workload: owner(workload, f),
        service_account: f(service_account),
        client_id: client_id.as_deref().map(f),
        identity: identity.as_deref().map(f),
        links: links.iter().map(|l| link(l, maps)).collect(),
    }
}

fn owner(w: &Workload, f: Map<'_>) -> Workload {
    Workload {
        kind: cow(&w.kind, f),
        name: f(&w.name),
    }
}

fn unused(u: &Unused, maps: &Maps<'_>) -> Unused {
    let f = maps.text;
    let Unused {
        pod,
        workload,
        service_account,
        enable,
        asked_for,
    } = u;
    Unused {
        pod: obj(pod, f),
        workload: owner(workload, f),
        service_account: f(service_account),
        enable: enable
            .iter()
            .map(|s| Step {
                code: s.code.clone(),
                title: arc(&s.title, f),
                fix: s.fix.as_deref().map(maps.fix),
            })
            .collect(),
        asked_for: *asked_for,
    }
}

fn link(l: &LinkResult, maps: &Maps<'_>) -> LinkResult {
    let f = maps.text;
    let LinkResult {
        link,
        status,
        summary,
        evidence,
        findings,
        basis,
    } = l;
    LinkResult {
        link: *link,
        status: *status,
        summary: cow(summary, f),
        evidence: evidence.iter().map(|e| ev(e, f)).collect(),
        findings: findings.iter().map(|x| finding(x, maps)).collect(),
        basis: *basis,
    }
}

fn finding(x: &Finding, maps: &Maps<'_>) -> Finding {
    let f = maps.text;
    let Finding {
        code,
        severity,
        title,
        message,
        explanation,
        evidence,
        fix,
    } = x;
    Finding {
        code: code.clone(),
        severity: *severity,
        title: title.clone(),
        message: f(message),
        explanation: arc(explanation, f),
        evidence: evidence.iter().map(|e| ev(e, f)).collect(),
        fix: fix.as_deref().map(maps.fix),
    }
}

fn ev(e: &Evidence, f: Map<'_>) -> Evidence {
    let Evidence {
        label,
        value,
        expected,
        note,
    } = e;
    Evidence {
        label: cow(label, f),
        value: f(value),
        expected: expected.as_deref().map(f),
        note: note.as_ref().map(|n| cow(n, f)),
    }
}

/// Constant text (the usual case) stays shared.
#[expect(
    clippy::ptr_arg,
    reason = "the variant matters: a borrowed 'static text is kept, which a &str would lose"
)]
fn cow(s: &Cow<'static, str>, f: Map<'_>) -> Cow<'static, str> {
    let m = f(s);
    match s {
        Cow::Borrowed(b) if m == *b => Cow::Borrowed(b),
        _ => Cow::Owned(m),
    }
}

fn arc(s: &Arc<str>, f: Map<'_>) -> Arc<str> {
    let m = f(s);
    if m == s.as_ref() { s.clone() } else { m.into() }
}
